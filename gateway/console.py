"""The web console (监控工作台) at `/`: the built files of web/, from the gateway's own origin, so the browser's
session cookie and the API share one origin and nothing is fetched from elsewhere (bureau intranets have no
internet). A path that is no file is one of the console's pages (history-mode routing) and gets index.html."""

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from backbone.errors import NotFound

# The console's own scripts, styles, fonts and images only; Element Plus sets inline styles.
CONSOLE_POLICY = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                  "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                  "form-action 'self'")
# Paths that are never console pages: an unknown one of them is a 404, not the console's index.
NOT_PAGES = ("api/", "healthz", "readyz", "metrics", "openapi.json", "docs", "redoc")
# File names under assets/ carry a hash of their content, so they never change.
IMMUTABLE = "public, max-age=31536000, immutable"


def serve_console(app: FastAPI, directory: Path) -> None:
    """Route every other GET to the console's files; registered after the API, which keeps its paths."""
    root = directory.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def console(path: str, request: Request) -> Response:
        if path.startswith(NOT_PAGES):
            raise NotFound(f"no such endpoint: {request.method} /{path}")
        index = root / "index.html"
        if not index.is_file():
            raise NotFound("the web console is not built: `make run` builds it (npm ci and vite build in web/)")
        wanted = (root / path).resolve()
        if path and wanted.is_relative_to(root) and wanted.is_file():
            cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
            return FileResponse(wanted, headers={"cache-control": cache, "content-security-policy": CONSOLE_POLICY})
        return FileResponse(index, headers={"cache-control": "no-cache", "content-security-policy": CONSOLE_POLICY})
