"""initData signed by an implementation that is not ours: `sign` from the npm package
@telegram-apps/init-data-node (installed into .tools by `make tools`), run with node. A test
that only checked our validator against our own signer would prove nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / ".tools" / "node_modules"
SIGNER = MODULES / "@telegram-apps" / "init-data-node"
SCRIPT = """
const { sign } = require("@telegram-apps/init-data-node");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(sign(input.data, input.token, new Date(input.auth_date * 1000)));
"""


def missing() -> str | None:
    """Why the independent signer cannot run here, or None."""
    if not shutil.which("node"):
        return "node is not installed"
    if not SIGNER.exists():
        return "@telegram-apps/init-data-node is not installed (make tools)"
    return None


def require() -> None:
    """Skip (never under CI=true) when the signer cannot run."""
    reason = missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"independent initData signer unavailable: {reason} — CI must run it")
        pytest.skip(f"independent initData signer unavailable: {reason}")


def telegram_init_data(
    token: str,
    user_id: int,
    language: str = "en",
    start_param: str | None = None,
    auth_date: int | None = None,
) -> str:
    """initData in Telegram's current shape (snake_case, query_id, chat_instance, signature),
    signed by @telegram-apps/init-data-node."""
    require()
    data = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": {
            "id": user_id,
            "first_name": "Анна" if language == "ru" else "Ann",
            "last_name": "Petrova",
            "username": f"u{user_id}",
            "language_code": language,
            "is_premium": True,
            "allows_write_to_pm": True,
            "photo_url": f"https://t.me/i/userpic/320/u{user_id}.svg",
        },
        "chat_instance": "-9019086117643313246",
        "chat_type": "sender",
        # Telegram's Ed25519 signature for third parties; it is inside the HMAC'd data too
        "signature": "6fbdaab833d39f54518bd5c3eb3f511d035e68cb_c4Sx2fZHEsT6KAq0XgIE2DPEiZHBw",
    }
    if start_param:
        data["start_param"] = start_param
    payload = {
        "data": data,
        "token": token,
        "auth_date": auth_date or int(time.time()),
    }
    done = subprocess.run(
        ["node", "-e", SCRIPT],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "NODE_PATH": str(MODULES)},
        check=True,
    )
    return done.stdout
