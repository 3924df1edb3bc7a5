"""cfn-lint finds no errors in the synthesized template."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import Synth

CFN_LINT = Path(sys.executable).parent / "cfn-lint"

# W3005 (DependsOn already implied by a Ref/GetAtt): CDK adds these explicit
# dependencies itself (function → role policy, notifications → queue policy); harmless.
IGNORED_CHECKS = ("W3005",)


def run_cfn_lint(synth: Synth, tmp_path: Path) -> None:
    """cfn-lint over ``synth``'s template; fails the test on any error or warning."""
    template = tmp_path / "Mediaport.template.json"
    template.write_text(json.dumps(synth.template.to_json()))
    result = subprocess.run(
        [str(CFN_LINT), "--ignore-checks", *IGNORED_CHECKS, "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_reports_no_errors_or_warnings(synth: Synth, tmp_path: Path) -> None:
    run_cfn_lint(synth, tmp_path)
