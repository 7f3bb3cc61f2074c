"""Every partita function that takes a file path accepts a str or any
os.PathLike (pathlib.Path included), refuses bytes with a TypeError, and is
typed `str | os.PathLike[str]` in the stub."""
import ast
import pathlib

import numpy as np
import pytest

import partita

STUB = pathlib.Path(__file__).resolve().parents[2] / "python" / "partita" / "_core.pyi"
PATH_PARAMS = {"path", "folder", "soundfont", "checkpoint_dir"}
# Path parameters of bindings kept elsewhere that still take any object (they
# do call os.fspath at run time). When one becomes typed, drop it here: the test
# fails while an entry is stale.
NOT_YET_TYPED: set = set()


class _Fs:  # a minimal os.PathLike that is not a pathlib.Path
    def __init__(self, p):
        self.p = str(p)

    def __fspath__(self):
        return self.p


def _score():
    return partita.Score(tracks=[partita.Track(notes=[partita.Note(60, 100, 0, 480)])])


@pytest.mark.parametrize("wrap", [str, pathlib.Path, _Fs])
def test_midi_wav_safetensors_and_optimizer_paths(tmp_path, wrap):
    mid = wrap(tmp_path / "a.mid")
    partita.write_midi(_score(), mid)
    assert partita.read_midi(mid).note_count == 1
    wav = wrap(tmp_path / "a.wav")
    partita.write_wav(wav, np.zeros((10, 2), np.float32), 8000)
    assert partita.read_wav(wav).sample_rate == 8000
    st = wrap(tmp_path / "t.safetensors")
    partita.save_safetensors(st, {"x": np.arange(3, dtype=np.float32)})
    np.testing.assert_array_equal(partita.load_safetensors(st).tensors["x"], [0, 1, 2])
    ps = partita.ParameterSet()
    ps.add("w", [2, 2])
    ps.allocate()
    ps.save(wrap(tmp_path / "p.safetensors"))
    assert ps.load(wrap(tmp_path / "p.safetensors")).loaded == ["w"]
    adam = partita.Adam(ps)
    adam.save_state(wrap(tmp_path / "adam.safetensors"))
    adam.load_state(wrap(tmp_path / "adam.safetensors"))


def test_soundfont_paths_accept_pathlike(tmp_path):
    missing = tmp_path / "none.sf2"
    for fn in (partita.find_soundfont, lambda p: partita.Synth(soundfont=p)):
        with pytest.raises(partita.RenderError, match="none.sf2"):
            fn(missing)
        with pytest.raises(partita.RenderError, match="none.sf2"):
            fn(_Fs(missing))


def test_bytes_paths_are_refused(tmp_path):
    for call in (lambda: partita.read_midi(b"a.mid"), lambda: partita.write_midi(_score(), b"a.mid"),
                 lambda: partita.read_wav(b"a.wav"), lambda: partita.load_safetensors(b"a.st")):
        with pytest.raises(TypeError):
            call()


def _stub_path_params():
    tree = ast.parse(STUB.read_text())
    found = {}

    def visit(body, prefix):
        for n in body:
            if isinstance(n, ast.ClassDef):
                visit(n.body, n.name + ".")
            elif isinstance(n, ast.FunctionDef):
                for a in n.args.args + n.args.kwonlyargs:
                    if a.arg in PATH_PARAMS and a.annotation is not None:
                        found.setdefault(prefix + n.name, []).append(ast.unparse(a.annotation))

    visit(tree.body, "")
    return found


def test_stub_types_every_path_parameter():
    typed = {"str | os.PathLike[str]", "str | os.PathLike[str] | None"}
    params = _stub_path_params()
    assert "read_midi" in params and "Synth.__init__" in params
    wrong = {k for k, anns in params.items() if any(a not in typed for a in anns)}
    assert wrong - NOT_YET_TYPED == set(), sorted(wrong - NOT_YET_TYPED)
    assert NOT_YET_TYPED - wrong == set(), f"typed now, drop from NOT_YET_TYPED: {sorted(NOT_YET_TYPED - wrong)}"
