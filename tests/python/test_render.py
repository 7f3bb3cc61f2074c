"""partita.Synth, write_wav, read_wav, find_soundfont from Python: checked by what
comes out (pitch by FFT, length, silence, timbre, drums), by reading the WAV
back with other readers (wave, soundfile when installed), and by the errors."""
import concurrent.futures
import math
import os
import wave

import numpy as np
import pytest

import partita

pytestmark = pytest.mark.skipif(not hasattr(partita, "Synth"), reason="built without the renderer")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ODE = os.path.join(REPO, "data", "melodies", "ode_to_joy.mid")


def half_up(x):
    """Frames as C++ std::llround counts them (halves away from zero)."""
    return int(math.floor(x + 0.5))


def _soundfont_or_skip():
    try:
        return partita.find_soundfont()
    except partita.RenderError as e:
        pytest.skip(f"no SoundFont installed: {e}")


@pytest.fixture(scope="module")
def synth():
    _soundfont_or_skip()
    return partita.Synth()


def one_note(pitch=69, program=0, drum=False, ticks=960):
    # 480 ticks per quarter at the default 120 qpm: 960 ticks = 1 s.
    track = partita.Track(program=program, is_drum=drum,
                          notes=[partita.Note(pitch=pitch, velocity=100, start=0, end=ticks)])
    return partita.Score(ticks_per_quarter=480, tracks=[track])


def spectrum(audio, n=32768):
    mono = audio[:n].mean(axis=1)
    mono = np.pad(mono, (0, n - len(mono)))
    return np.abs(np.fft.rfft(mono * np.hanning(n)))


def peak_hz(audio, rate=44100, n=32768):
    mag = spectrum(audio, n)
    return (np.argmax(mag[1:]) + 1) * rate / n


def centroid_hz(audio, rate=44100, n=16384):
    mag = spectrum(audio, n)
    freqs = np.arange(len(mag)) * rate / n
    return float((freqs * mag).sum() / mag.sum())


def test_a4_peaks_at_440_hz(synth):
    audio = synth.render(one_note(69))
    assert audio.dtype == np.float32 and audio.ndim == 2 and audio.shape[1] == 2
    assert audio.flags.c_contiguous
    assert abs(peak_hz(audio) - 440.0) < 3.0
    assert 0.01 < np.abs(audio).max() < 1.0


def test_length_is_duration_plus_tail(synth):
    score = one_note(60, ticks=960)
    assert synth.render(score).shape == (2 * 44100, 2)
    assert synth.frames(score) == 2 * 44100
    old = synth.tail
    try:
        synth.tail = 0.5
        assert synth.render(score).shape[0] == half_up(1.5 * 44100)
    finally:
        synth.tail = old


def test_empty_score_renders_silent_tail(synth):
    audio = synth.render(partita.Score())
    assert audio.shape == (44100, 2)
    assert np.abs(audio).max() == 0.0


def test_render_returns_its_buffer_without_a_copy(synth):
    audio = synth.render(one_note())
    assert not audio.flags.owndata  # the array wraps the C++ buffer (a capsule owns it)
    assert audio.flags.writeable
    audio[:10] = 0  # and it is ours to change


def test_program_changes_the_spectrum(synth):
    piano, flute = spectrum(synth.render(one_note(69, 0))), spectrum(synth.render(one_note(69, 73)))
    cosine = piano @ flute / np.linalg.norm(piano) / np.linalg.norm(flute)
    assert cosine < 0.9
    assert np.array_equal(spectrum(synth.render(one_note(69, 0))), piano)  # deterministic


def test_drums_use_the_percussion_kit(synth):
    snare = synth.render(one_note(38, drum=True, ticks=480))
    low_d = synth.render(one_note(38, drum=False, ticks=480))
    assert centroid_hz(snare) > 1000
    assert centroid_hz(snare) > 2 * centroid_hz(low_d)


def test_renders_from_threads_agree(synth):
    score = one_note(64, 40)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        a, b = pool.map(synth.render, [score, score])
    assert np.array_equal(a, b)


def test_properties_and_options():
    sf = _soundfont_or_skip()
    s = partita.Synth(soundfont=sf, sample_rate=22050, gain=0.3, tail=0.25, reverb=True)
    assert s.soundfont == sf and s.sample_rate == 22050 and s.channels == 2
    assert s.gain == pytest.approx(0.3) and s.tail == 0.25 and s.reverb and not s.chorus
    audio = s.render(one_note(69))
    assert audio.shape[0] == half_up(1.25 * 22050)
    assert abs(peak_hz(audio, 22050, 16384) - 440.0) < 3.0
    with pytest.raises(ValueError, match="sample_rate"):
        partita.Synth(soundfont=sf, sample_rate=100)
    with pytest.raises(partita.InvalidArgument):
        s.gain = -1


def test_bad_scores_raise_invalid_argument(synth):
    with pytest.raises(partita.InvalidArgument, match="pitch"):
        synth.render(one_note(130))
    with pytest.raises(TypeError):
        synth.render("not a score")


def test_soundfont_errors_name_the_file(tmp_path, monkeypatch):
    with pytest.raises(partita.RenderError, match="/no/such/font.sf2"):
        partita.Synth(soundfont="/no/such/font.sf2")
    bad = tmp_path / "bad.sf2"
    bad.write_text("not a soundfont")
    with pytest.raises(partita.RenderError, match="bad.sf2"):
        partita.Synth(soundfont=bad)  # os.PathLike works
    monkeypatch.setenv("PARTITA_SOUNDFONT", "/nonexistent/env.sf2")
    with pytest.raises(partita.RenderError, match="PARTITA_SOUNDFONT"):
        partita.find_soundfont()
    monkeypatch.setenv("PARTITA_SOUNDFONT", str(bad))
    assert partita.find_soundfont() == str(bad)
    assert isinstance(partita.default_soundfont_paths(), list)


def test_wav_round_trip_pcm16(tmp_path, synth):
    audio = synth.render(one_note(60))
    path = tmp_path / "a.wav"
    partita.write_wav(path, audio, 44100)
    back, rate = partita.read_wav(path)
    assert rate == 44100 and back.shape == audio.shape and back.dtype == np.float32
    assert np.abs(back - audio).max() <= 1.0 / 32767 + 1e-7
    with wave.open(str(path), "rb") as w:  # the standard library agrees
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 44100)
        assert w.getnframes() == audio.shape[0]
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    assert np.abs(pcm / 32768.0 - back).max() < 1e-6
    assert os.listdir(tmp_path) == ["a.wav"]  # no temporary file left


def test_wav_round_trip_float_and_mono(tmp_path):
    stereo = np.linspace(-2, 2, 1000, dtype=np.float32).reshape(500, 2)
    partita.write_wav(tmp_path / "f.wav", stereo, 48000, subtype="FLOAT")
    back, rate = partita.read_wav(tmp_path / "f.wav")
    assert rate == 48000 and np.array_equal(back, stereo)
    mono = np.sin(np.arange(300) / 5.0)  # float64 is converted
    partita.write_wav(tmp_path / "m.wav", mono, 8000)
    back, rate = partita.read_wav(tmp_path / "m.wav")
    assert back.shape == (300, 1) and np.abs(back[:, 0] - mono).max() < 1e-4


def test_wav_read_by_soundfile_if_installed(tmp_path):
    soundfile = pytest.importorskip("soundfile")
    audio = (np.random.default_rng(0).random((1234, 2), dtype=np.float32) - 0.5)
    partita.write_wav(tmp_path / "s.wav", audio, 44100)
    data, rate = soundfile.read(tmp_path / "s.wav", dtype="float32")
    assert rate == 44100 and data.shape == audio.shape


def test_pcm16_clips(tmp_path):
    partita.write_wav(tmp_path / "c.wav", np.array([[1.5], [-3.0], [0.5]], np.float32), 8000)
    back, _ = partita.read_wav(tmp_path / "c.wav")
    assert back[0, 0] > 0.999 and back[1, 0] == -1.0 and abs(back[2, 0] - 0.5) < 1e-4


def test_wav_errors(tmp_path):
    audio = np.zeros((10, 2), np.float32)
    with pytest.raises(OSError):
        partita.write_wav(tmp_path / "missing" / "x.wav", audio, 44100)
    with pytest.raises(ValueError, match="subtype"):
        partita.write_wav(tmp_path / "x.wav", audio, 44100, subtype="MP3")
    with pytest.raises(ValueError):
        partita.write_wav(tmp_path / "x.wav", np.zeros((2, 2, 2), np.float32), 44100)
    nan = audio.copy()
    nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        partita.write_wav(tmp_path / "x.wav", nan, 44100)
    assert os.listdir(tmp_path) == []
    with pytest.raises(OSError):
        partita.read_wav(tmp_path / "nope.wav")
    (tmp_path / "t.wav").write_text("text, not audio")
    with pytest.raises(partita.FormatError):
        partita.read_wav(tmp_path / "t.wav")


@pytest.mark.skipif(not os.path.exists(ODE), reason="sample melody missing")
def test_renders_a_sample_melody(synth):
    if not hasattr(partita, "read_midi"):
        pytest.skip("read_midi not built")
    score = partita.read_midi(ODE)
    audio = synth.render(score)
    assert audio.shape[0] == synth.frames(score)
    assert audio.shape[0] == half_up((score.duration_seconds + synth.tail) * 44100)
    assert np.abs(audio).max() > 0.05


def test_renders_every_sample_melody(synth, melody_paths):
    if not hasattr(partita, "read_midi"):
        pytest.skip("read_midi not built")
    for path in melody_paths:
        score = partita.read_midi(str(path))
        audio = synth.render(score)
        assert audio.shape == (half_up((score.duration_seconds + synth.tail) * 44100), 2), path
        assert 0.01 < np.abs(audio).max() < 1.0, path


def test_renders_real_world_midi_files(synth, midi_corpus):
    # Files from music21's corpus: several tracks, program changes, controllers.
    for path in midi_corpus[:8]:
        score = partita.read_midi(str(path))
        audio = synth.render(score)
        assert audio.shape[0] == synth.frames(score), path
        assert np.isfinite(audio).all(), path
        if score.note_count:
            assert np.abs(audio).max() > 1e-3, path
