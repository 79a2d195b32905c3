"""What a worker loads: serving reads must not pull in language-model code."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT, Stack

SCRIPT = """
import asyncio, json, sys
import azure.functions as func
import function_app
from adapters.auth import TokenVerifier
from adapters.settings import load_settings

async def main():
    token = TokenVerifier.from_settings(load_settings()).issue("cold-start-user")
    functions = function_app.app.get_functions()
    handlers = {f.get_function_name(): f.get_user_function() for f in functions}
    request = func.HttpRequest(
        "GET",
        "http://localhost/api/lessons/missing-lesson",
        headers={"Authorization": "Bearer " + token},
        route_params={"lessonId": "missing-lesson"},
        body=b"",
    )
    response = await handlers["get_lesson"](request)
    prefixes = ("adapters.llm", "groq", "google.genai", "openai")
    llm = sorted(m for m in sys.modules if m.startswith(prefixes))
    print(json.dumps({"status": response.status_code, "llm_modules": llm}))

asyncio.run(main())
"""


def test_serving_a_get_loads_no_language_model_code(stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"status": 404, "llm_modules": []}
