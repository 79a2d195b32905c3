"""The Azure Functions entry point: builds the app and registers one blueprint per concern."""

import azure.functions as func

from functions.cors import bp as cors_bp
from functions.docs import bp as docs_bp
from functions.generation import bp as generation_bp
from functions.health import bp as health_bp
from functions.lessons import bp as lessons_bp
from functions.maintenance import bp as maintenance_bp
from functions.modules import bp as modules_bp
from functions.roadmaps import bp as roadmaps_bp
from functions.webapp import bp as webapp_bp

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

for blueprint in (
    health_bp,
    roadmaps_bp,
    lessons_bp,
    modules_bp,
    docs_bp,
    cors_bp,
    generation_bp,
    maintenance_bp,
    webapp_bp,
):
    app.register_functions(blueprint)
