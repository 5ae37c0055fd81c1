"""The seeds' "Analysis" demo application, in the Pylons 1.0 project layout.

Loaded by PasteDeploy through ``use = egg:pylon-trace`` (the ``paste.app_factory``
entry point ``main = sample_app.config.middleware:make_app``).
"""
