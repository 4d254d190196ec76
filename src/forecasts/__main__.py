"""`python -m forecasts` is the `forecasts` command."""

from forecasts.cli import main

main()
