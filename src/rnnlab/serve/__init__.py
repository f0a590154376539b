"""``rnnlab serve``: saved runs behind a JSON API (FastAPI) and one static page to use them.

    from rnnlab.serve import create_app
    app = create_app(["runs/sst2", "runs/shake"])  # uvicorn.run(app) or TestClient(app)

Needs the ``serve`` extra (``pip install -e ".[serve]"``: fastapi, uvicorn, python-multipart).
"""

from rnnlab.serve.app import create_app, load_runs
from rnnlab.serve.limits import Limits

__all__ = ["Limits", "create_app", "load_runs"]
