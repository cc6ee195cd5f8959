"""Is a pip index reachable? ``make install TORCH_INDEX=...`` asks before pip does.

pip's own message for an index it cannot reach is "conflicting dependencies", which sends a newcomer
looking in the wrong place. Usage: ``python constraints/check_index.py URL [PACKAGE]``; exit 1 with a
message naming the URL and what to do when it cannot be reached.
"""
from __future__ import annotations

import sys
import urllib.error
import urllib.request


def main(url: str, package: str = "torch") -> int:
    page = url.rstrip("/") + f"/{package}/"
    try:
        urllib.request.urlopen(page, timeout=30).close()
    except (urllib.error.URLError, OSError, ValueError) as err:
        print(f"error: TORCH_INDEX={url} cannot be reached ({getattr(err, 'reason', err)}).\n"
              f"  Check the address and the network, or leave TORCH_INDEX out to take {package} from PyPI.",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
