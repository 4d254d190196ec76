"""The domain: questions, people, forecasts, resolutions and the rules that govern them.

Everything here takes a Session and plain values, raises ForecastsError subclasses, and
never prints or exits."""
