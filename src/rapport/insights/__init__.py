"""Insights: scores, forecasts, segments, recommendations. Django glue here; models in ml/."""
