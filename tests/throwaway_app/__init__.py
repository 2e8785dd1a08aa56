"""An app that exists only in the test settings: it proves that an app plugs itself in
(navigation, search, timeline, API) through its rapport_app.py alone."""
