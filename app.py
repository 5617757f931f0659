"""The Chalice app: routes come from blueprints; handlers stay thin.

Deployed as API Gateway → Lambda. `make run` serves the same app locally
(chalicelib.local); tests drive it with chalice.test.Client.
"""

from __future__ import annotations

import logging

from chalice import Chalice

from chalicelib.web.api_routes import bp as api_bp
from chalicelib.web.interview_routes import bp as interview_bp

app = Chalice(app_name="serverless-interviews")
app.log.setLevel(logging.INFO)
logging.getLogger("chalicelib").setLevel(logging.INFO)
app.register_blueprint(interview_bp)
app.register_blueprint(api_bp)
