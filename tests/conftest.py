"""The project is installed (pip install -r requirements-dev.txt installs it editable); pytest puts this folder on
the path for helpers.py, as it does for any test folder without __init__.py."""
