"""The scores and calibration report, one layer per module:

- ``load``: database -> arrays (``QuestionArrays``, ``ForecastArrays``), fast bulk loading;
- ``build``: options in, the typed ``Report`` out (``to_dict()`` is the JSON);
- ``text``: numbers and sentences for people, shared by every presentation;
- ``terminal``: rich tables; ``html`` and ``charts``: the HTML page and the PNG diagram;
- ``run``: ``forecasts report`` as one core call (options, build, files).

Import the module you need: the package itself imports nothing, so loading the CLI (and
`forecasts --help`) costs nothing until `forecasts report` runs.
"""
