"""The README's curl walk-through works as written (only the API address and the folder
`make` runs in differ, since the test's stack listens on a free port)."""

import json
import re
import subprocess

from tests import samples
from tests.e2e.conftest import ROOT, LocalStack


def _walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- walkthrough:.*?-->\n```bash\n(.*?)```", readme, re.DOTALL)
    assert match, "README.md has no walk-through block"
    return match.group(1)


def test_the_readme_walkthrough_uploads_and_verifies_a_photo(
    local_stack: LocalStack, tmp_path
) -> None:
    script = _walkthrough()
    assert len(script.strip().splitlines()) <= 5
    script = script.replace("http://127.0.0.1:8000", local_stack.api_url)
    script = script.replace("make -s token", f"make -s -C {ROOT} token")
    (tmp_path / "photo.jpg").write_bytes(samples.jpeg_bytes(640, 480))

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "HTTP/1.1 204" in result.stdout
    asset = json.loads(result.stdout.strip().splitlines()[-1])
    assert asset["status"] == "READY"
    assert asset["filename"] == "photo.jpg"
    assert (asset["width"], asset["height"]) == (640, 480)
