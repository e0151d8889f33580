import sys

from webapp.app import create_app
from webapp.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:  # a setting that cannot work: said plainly, without a traceback
    sys.exit(f"Configuration error: {exc}")
