"""Screenshots of the report and of the documentation site, rendered by headless Chromium.

Renders ``index.html`` of a report folder and the site's landing page (and any other pages
given) to PNG at a 1,400 px wide window, so a person can look at what a reader sees. Needs
Debian's ``chromium`` (``apt-get install chromium``) or any Chrome/Chromium on PATH.

Usage:
    python validation/screenshots.py --report mirocals-report --site docs/_build/html \
        --out screenshots [--height 9000]

Each page is written twice: ``NAME-top.png`` (the first 1,400 x 900 screen, what a reader sees
first) and ``NAME-full.png`` (a tall window holding the whole page; blank space at its foot
when the page is shorter).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WIDTH = 1400


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("screenshots: no chromium on PATH (apt-get install chromium)")


def shoot(page: Path, png: Path, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            chromium(),
            "--headless",
            "--no-sandbox",  # running as root in a container
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{height}",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    print(f"wrote {png} ({page})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", type=Path, help="a report folder (holding index.html)")
    ap.add_argument("--site", type=Path, help="the built site (holding index.html)")
    ap.add_argument("--page", type=Path, action="append", default=[], help="another HTML page")
    ap.add_argument("--out", type=Path, default=Path("screenshots"))
    ap.add_argument("--height", type=int, default=9000, help="window height of the full shot")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pages = []
    if args.report:
        pages.append(("report", args.report / "index.html"))
    if args.site:
        pages.append(("site", args.site / "index.html"))
    pages += [(f"page-{p.stem}", p) for p in args.page]
    if not pages:
        ap.error("give --report, --site or --page")
    for name, page in pages:
        if not page.is_file():
            sys.exit(f"screenshots: {page}: no such page")
        shoot(page, args.out / f"{name}-top.png", 900)
        shoot(page, args.out / f"{name}-full.png", args.height)
    return 0


if __name__ == "__main__":
    sys.exit(main())
