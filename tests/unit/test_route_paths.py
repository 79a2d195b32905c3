"""Azure route templates become Starlette paths the local host can serve."""

import pytest

from devhost.http import route_paths


@pytest.mark.parametrize(
    ("prefix", "template", "paths"),
    [
        ("api", "roadmaps/{roadmapId}", ["/api/roadmaps/{roadmapId}"]),
        ("api", "lessons/{lessonId}/generate", ["/api/lessons/{lessonId}/generate"]),
        ("api", "health", ["/api/health"]),
        ("api", "{id:int}", ["/api/{id:int}"]),
        ("api", "items/{id:int}/parts/{part}", ["/api/items/{id:int}/parts/{part}"]),
        ("api", "{id:guid}", ["/api/{id}"]),
        ("api", "files/{*rest}", ["/api/files/{rest:path}"]),
        ("api", "things/{x?}", ["/api/things/{x}", "/api/things"]),
        ("api", "things/{x:int?}", ["/api/things/{x:int}", "/api/things"]),
        ("api", "a/{x?}/{y?}", ["/api/a/{x}/{y}", "/api/a"]),
        ("", "roadmaps/{roadmapId}", ["/roadmaps/{roadmapId}"]),
        ("", "health", ["/health"]),
        ("", "{x?}", ["/{x}", "/"]),
        ("/api/", "/health/", ["/api/health"]),
        ("v1/api", "health", ["/v1/api/health"]),
    ],
)
def test_route_template_becomes_starlette_paths(prefix: str, template: str, paths: list[str]):
    assert route_paths(prefix, template) == paths
