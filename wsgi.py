import sys

from webapp.app import create_app
from webapp.records import StoreError
from webapp.services.styles import CatalogueError
from webapp.settings import SettingsError

try:
    app = create_app()
except (SettingsError, CatalogueError) as exc:  # said plainly, without a traceback
    sys.exit(f"Configuration error: {exc}")
except (StoreError, OSError) as exc:  # the store, or the instance folder, cannot be opened
    sys.exit(f"Could not start: {exc}")
