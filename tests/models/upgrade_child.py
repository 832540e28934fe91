"""A process that upgrades a database and SIGKILLs itself at a chosen point.

``python -m tests.models.upgrade_child URL REVISION POINT`` runs
`models.db.upgrade` on URL and kills itself (kill -9: no cleanup, no
rollback from Python) while REVISION is being applied:

- ``begun``: right after the first statement that changes the schema for
  REVISION (the state that used to leave "duplicate column name: fax");
- ``done``: right after REVISION is stamped in ``alembic_version``, before
  anything commits.

The point is found from the statements themselves, so the kill happens at the
same place every run (no timing). Exits 3 if the point is never reached.

``python -m tests.models.upgrade_child URL --wait`` prints "ready", waits for a
line on stdin and runs ``o2c db upgrade``: the test releases four at once.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from typing import Any

from sqlalchemy import Engine, event

from o2c_desktop.models.db import alembic_config, current_revision, make_engine

_STAMP = re.compile(
    r"alembic_version.*?(?:SET version_num\s*=\s*|VALUES \()'(?P<rev>[^']+)'",
    re.DOTALL,
)
_CHANGES = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE")


def _kill_at(revision: str, point: str, start: str | None) -> None:
    from alembic.script import ScriptDirectory

    down = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    assert down is not None
    state = {"armed": down.down_revision == start}

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        stamp = _STAMP.search(statement)
        stamped = stamp.group("rev") if stamp else None
        if point == "done" and stamped == revision:
            os.kill(os.getpid(), signal.SIGKILL)
        if point != "begun":
            return
        if stamped is not None and stamped == down.down_revision:
            state["armed"] = True
        elif (
            state["armed"]
            and statement.lstrip().upper().startswith(_CHANGES)
            and "alembic_version" not in statement
        ):
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Engine, "after_cursor_execute", after)


def main(argv: list[str]) -> int:
    """Run one upgrade, killed where `argv` says; return the exit code."""
    url = argv[0]
    if argv[1] == "--wait":
        from o2c_desktop.cli import main as o2c

        os.environ["O2C_DATABASE_URL"] = url
        print("ready", flush=True)  # noqa: T201 - the test reads it
        sys.stdin.readline()
        return o2c(["db", "upgrade"])

    from o2c_desktop.models.db import upgrade

    engine = make_engine(url)
    _kill_at(argv[1], argv[2], current_revision(engine))
    upgrade(engine)
    print(f"upgraded without reaching {argv[2]} {argv[1]}", file=sys.stderr)  # noqa: T201
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
