"""The `partita` command line: `python -m partita info/render` through a real
subprocess (exit codes, clean one-line errors, files written), plus in-process
checks of the subcommand registry that later subcommands plug into."""
import json
import math
import os
import subprocess
import sys
import wave

import pytest

import partita
from partita import cli

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ODE = os.path.join(REPO, "data", "melodies", "ode_to_joy.mid")

needs_midi = pytest.mark.skipif(not hasattr(partita, "read_midi") or not os.path.exists(ODE),
                                reason="read_midi or the sample melody is missing")


def half_up(x):
    """Frames as C++ std::llround counts them (halves away from zero)."""
    return int(math.floor(x + 0.5))


def have_soundfont():
    try:
        partita.find_soundfont()
        return True
    except Exception:
        return False


needs_render = pytest.mark.skipif(not hasattr(partita, "Synth") or not have_soundfont(),
                                  reason="no renderer or no SoundFont")


def run(*args, cwd=None):
    """`python -m partita ARGS` with this interpreter and the same import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(partita.__file__)),
                                                    env.get("PYTHONPATH", "")] if p)
    return subprocess.run([sys.executable, "-m", "partita", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


@needs_midi
def test_info_shows_tracks_tempo_meter_length():
    score = partita.read_midi(ODE)
    r = run("info", ODE)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"notes:           {score.note_count}" in out
    assert f"{score.duration_seconds:.2f} s" in out
    assert "qpm" in out and "time signature" in out and "tracks:" in out
    assert "Acoustic Grand Piano" in out or "(kit)" in out or "program" in out
    assert r.stderr == ""


@needs_midi
def test_info_json_matches_the_score():
    score = partita.read_midi(ODE)
    r = run("info", "--json", ODE)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["notes"] == score.note_count
    assert info["seconds"] == pytest.approx(score.duration_seconds)
    assert len(info["tracks"]) == len(score.tracks)
    assert [t["program"] for t in info["tracks"]] == [t.program for t in score.tracks]
    assert info["bars"] > 0


@needs_midi
@needs_render
def test_render_writes_a_wav_of_the_right_length(tmp_path):
    out = tmp_path / "ode.wav"
    r = run("render", ODE, "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and str(out) in r.stdout
    score = partita.read_midi(ODE)
    with wave.open(str(out), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 44100)
        assert w.getnframes() == half_up((score.duration_seconds + 1.0) * 44100)


@needs_midi
@needs_render
def test_render_float_rate_and_default_output_name(tmp_path):
    src = tmp_path / "song.mid"
    src.write_bytes(open(ODE, "rb").read())
    r = run("render", str(src), "--float", "--sample-rate", "22050", "--tail", "0.5", "--gain", "0.3")
    assert r.returncode == 0, r.stderr
    audio, rate = partita.read_wav(tmp_path / "song.wav")
    assert rate == 22050
    assert audio.shape[0] == half_up((partita.read_midi(str(src)).duration_seconds + 0.5) * 22050)


def test_errors_are_one_clean_line(tmp_path):
    r = run("info", str(tmp_path / "missing.mid"))
    assert r.returncode == 1
    assert r.stderr.startswith("partita info: error:") and "missing.mid" in r.stderr
    assert "Traceback" not in r.stderr
    garbage = tmp_path / "garbage.mid"
    garbage.write_bytes(b"this is not a MIDI file at all")
    r = run("info", str(garbage))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "garbage.mid" in r.stderr


@needs_midi
def test_render_errors(tmp_path):
    r = run("render", ODE, "-o", str(tmp_path / "x.wav"), "--soundfont", "/no/such/font.sf2")
    assert r.returncode == 1 and "/no/such/font.sf2" in r.stderr and "Traceback" not in r.stderr
    r = run("render", ODE, "-o", str(tmp_path / "x.wav"), "--sample-rate", "5")
    assert r.returncode == 1 and "sample_rate" in r.stderr
    r = run("render", ODE, "-o", str(tmp_path / "no_dir" / "x.wav"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "x.wav").exists()


def test_usage_errors_exit_2_and_help_works():
    assert run().returncode == 2
    assert run("render").returncode == 2  # missing the MIDI file
    assert run("info", "a.mid", "--no-such-flag").returncode == 2
    assert run("--matmul-precision", "fp16", "info", "a.mid").returncode == 2
    for sub in ("info", "render"):
        r = run(sub, "--help")
        assert r.returncode == 0 and f"usage: partita {sub}" in r.stdout
    r = run("--help")
    assert r.returncode == 0 and "info" in r.stdout and "render" in r.stdout


def test_a_new_subcommand_is_one_function_and_one_registration(monkeypatch, capsys):
    seen = {}

    def add_echo(sub):
        p = sub.add_parser("echo", help="test command")
        p.add_argument("word")
        cli.add_seed_argument(p)
        return p

    def run_echo(args):
        seen["seed"] = cli.resolve_seed(args)
        print(args.word)
        if args.word == "fail":
            raise cli.CommandError("asked to fail")
        return 0

    monkeypatch.setattr(cli, "SUBCOMMANDS", cli.SUBCOMMANDS + [(add_echo, run_echo)])
    assert cli.main(["echo", "hello", "--seed", "7"]) == 0
    assert capsys.readouterr().out == "hello\n" and seen["seed"] == 7
    assert cli.main(["echo", "fail"]) == 1
    err = capsys.readouterr().err
    assert "partita: using --seed" in err and "partita echo: error: asked to fail" in err


def test_output_path_never_overwrites_the_input(tmp_path):
    ns = cli.build_parser().parse_args(["render", str(tmp_path / "a.mid")])
    assert cli.output_path(ns, ".wav") == str(tmp_path / "a.wav")
    ns = cli.build_parser().parse_args(["render", str(tmp_path / "a.wav")])
    with pytest.raises(cli.CommandError):
        cli.output_path(ns, ".wav")
