from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.cli import main

HERE = Path(__file__).parent


def test_reproduce_prints_where_and_what(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "--out", str(tmp_path / "out"), "--n-boot", "20"]) == 0
    captured = capsys.readouterr()
    assert f"open {tmp_path / 'out' / 'report.html'}" in captured.out
    assert "policy_future" in captured.out and "corroborated" in captured.out
    assert "reproduce: 100%" in captured.err  # the progress display


def test_load_dedupe_and_write(corpus_data: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "clean.ris"
    code = main(["load", str(corpus_data / "basic.ris"), str(corpus_data / "accents.bib"),
                 "--dedupe", "--out", str(out)])
    assert code == 0
    assert out.read_text().count("ER  -") == 3
    assert "wrote 3 records" in capsys.readouterr().out
    assert main(["load", str(corpus_data / "basic.ris"), "--out", str(out)]) == 2
    assert "pass overwrite=True" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["load", "no/such/file.bib"], "no such file or directory"),
        (["load", str(HERE / "data/corpus/unclosed_brace.bib"), "--strict"],
         "unclosed_brace.bib:6"),
        (["reproduce", "--corpus", str(HERE)], "no review.yaml here"),
        (["reproduce", str(HERE / "nowhere")], "no such folder"),
    ],
)
def test_errors_are_one_message_and_exit_2(argv: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "load" in out and "reproduce" in out
