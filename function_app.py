"""The Azure Functions entry point: validates the settings, registers one blueprint per concern.

The host imports this module to index the functions, so a missing or invalid setting stops the
app here, with one error naming each one (``functions/bootstrap.py``).
"""

import azure.functions as func

from functions.bootstrap import start
from functions.cors import bp as cors_bp
from functions.docs import bp as docs_bp
from functions.health import bp as health_bp
from functions.lesson_edits import bp as lesson_edits_bp
from functions.lesson_worker import bp as lesson_worker_bp
from functions.lessons import bp as lessons_bp
from functions.maintenance import bp as maintenance_bp
from functions.me import bp as me_bp
from functions.modules import bp as modules_bp
from functions.notifications import bp as notifications_bp
from functions.roadmap_edits import bp as roadmap_edits_bp
from functions.roadmaps import bp as roadmaps_bp
from functions.webapp import bp as webapp_bp

start()
app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

for blueprint in (
    health_bp,
    roadmaps_bp,
    roadmap_edits_bp,
    lesson_edits_bp,
    lessons_bp,
    modules_bp,
    me_bp,
    docs_bp,
    cors_bp,
    lesson_worker_bp,
    maintenance_bp,
    webapp_bp,
    notifications_bp,
):
    app.register_functions(blueprint)
