"""The learner page loads one exact Mermaid file, checked by its SRI hash, and the CSP allows
that file only."""

import re

from functions.webapp import CSP, MERMAID_URL, WEB_DIR

LESSON_JS = (WEB_DIR / "lesson.js").read_text()


def _constant(name: str) -> str:
    match = re.search(rf'export const {name} = "([^"]+)";', LESSON_JS)
    assert match is not None, f"{name} is not declared in lesson.js"
    return match.group(1)


def test_the_page_and_its_csp_name_the_same_pinned_release():
    url = _constant("MERMAID_URL")

    assert url == MERMAID_URL
    assert re.fullmatch(
        r"https://cdn\.jsdelivr\.net/npm/mermaid@\d+\.\d+\.\d+/dist/mermaid\.min\.js", url
    )


def test_the_script_is_checked_by_a_sha384_subresource_integrity_hash():
    integrity = _constant("MERMAID_INTEGRITY")

    assert re.fullmatch(r"sha384-[A-Za-z0-9+/]{64}", integrity)
    assert "script.integrity = integrity" in LESSON_JS
    assert 'script.crossOrigin = "anonymous"' in LESSON_JS
    code = "\n".join(line for line in LESSON_JS.splitlines() if not line.lstrip().startswith("//"))
    assert "import(" not in code  # a dynamic import would bypass the integrity check


def test_the_csp_allows_that_file_and_no_other_script_host():
    script_sources = re.search(r"script-src ([^;]+);", CSP)

    assert script_sources is not None
    assert script_sources.group(1).split() == ["'self'", MERMAID_URL]
