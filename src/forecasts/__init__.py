"""forecasts: a self-hosted forecasting question tracker."""

__version__ = "0.1.0"
