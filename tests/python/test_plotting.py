"""plot_pianoroll (matplotlib, Agg backend) and Audio (IPython) helpers."""
import os

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import partita  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MELODY = os.path.join(ROOT, "data", "melodies", "ode_to_joy.mid")
needs_score = pytest.mark.skipif(not hasattr(partita, "Score"), reason="no Score bindings")


def _roll():
    a = np.zeros((32, 128), np.uint8)
    a[0:8, 60] = 100
    a[8:16, 64] = 50
    return partita.PianoRoll(a, resolution=4, time_signature=(3, 4))


def test_plot_returns_the_given_axes_and_draws_the_cells():
    fig, ax = plt.subplots()
    out = partita.plot_pianoroll(_roll(), ax=ax)
    assert out is ax
    images = ax.get_images()
    assert len(images) == 1
    data = np.asarray(images[0].get_array())
    # Pitch range defaults to the notes' range +- 2 (58..66), time on x in beats.
    assert data.shape == (66 - 58 + 1, 32)
    assert data[60 - 58, 0] == pytest.approx(100 / 127) and data[64 - 58, 8] == pytest.approx(50 / 127)
    assert images[0].get_extent() == [0.0, 8.0, 57.5, 66.5]
    # Bar lines every 3 beats (3/4): at 3 and 6.
    xs = sorted(line.get_xdata()[0] for line in ax.get_lines())
    assert xs == [3.0, 6.0]
    plt.close(fig)


def test_plot_creates_axes_and_takes_arrays_and_multitracks():
    ax = partita.plot_pianoroll(np.zeros((16, 128), bool), pitch_range=(40, 80), beat_lines=True)
    assert ax.get_images()[0].get_array().shape == (41, 16)
    cells = np.zeros((2, 16, 128), np.uint8)
    cells[0, :4, 60] = 127
    cells[1, 4:8, 48] = 127
    multi = partita.MultiTrackRoll(cells, names=["melody", "bass"])
    fig, ax2 = plt.subplots()
    assert partita.plot_pianoroll(multi, ax=ax2) is ax2
    rgb = np.asarray(ax2.get_images()[0].get_array())
    assert rgb.shape == (60 + 2 - 46 + 1, 16, 3)
    assert not np.allclose(rgb[60 - 46, 0], rgb[48 - 46, 4])  # two tracks, two colours
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["melody", "bass"]
    with pytest.raises(partita.ShapeError):
        partita.plot_pianoroll(np.zeros((16, 12)))
    plt.close("all")


def test_plot_multitrack_draws_one_row_per_track():
    cells = np.zeros((3, 32, 128), np.uint8)
    cells[0, :8, 72] = 127
    cells[1, 8:16, 60] = 127  # track 2 stays silent
    multi = partita.MultiTrackRoll(cells, names=["Soprano", "Alto", ""], time_signature=(2, 4))
    axes = partita.plot_multitrack(multi, title="three tracks")
    assert len(axes) == 3 and axes[0].figure is axes[2].figure
    assert [ax.get_title(loc="left") for ax in axes] == ["Soprano", "Alto", "track 2"]
    first = np.asarray(axes[0].get_images()[0].get_array())
    assert first.shape == (74 - 70 + 1, 32)  # each row: its own notes' range +- 2
    assert first[72 - 70, 0] == 1.0 and first[72 - 70, 8] == 0.0
    assert axes[2].get_images()[0].get_extent()[2:] == [47.5, 84.5]  # a silent track: 48..84
    xs = sorted(line.get_xdata()[0] for line in axes[0].get_lines())
    assert xs == [2.0, 4.0, 6.0]  # bar lines every 2 beats (2/4)
    assert axes[0].images[0].get_cmap()(1.0) != axes[1].images[0].get_cmap()(1.0)  # the track colours
    fig, given = plt.subplots(3, 1)
    assert partita.plot_multitrack(multi, axes=given, pitch_range=(50, 80)) == list(given)
    assert given[1].get_images()[0].get_array().shape == (31, 32)
    with pytest.raises(partita.InvalidArgument, match="3 tracks need 3 axes"):
        partita.plot_multitrack(multi, axes=given[:2])
    plt.close("all")


@needs_score
def test_plot_takes_a_score():
    score = partita.read_midi(MELODY)
    fig, ax = plt.subplots()
    assert partita.plot_pianoroll(score, ax=ax, resolution=4) is ax
    plt.close(fig)


def test_audio_wraps_samples():
    pytest.importorskip("IPython")
    t = np.arange(4410) / 44100.0
    stereo = np.stack([np.sin(2 * np.pi * 440 * t)] * 2, axis=1).astype(np.float32) * 0.5
    audio = partita.Audio(stereo, sample_rate=44100)
    wav = audio.data  # a WAV file in memory: channels at byte 22, rate at byte 24
    assert wav[:4] == b"RIFF"
    assert int.from_bytes(wav[22:24], "little") == 2
    assert int.from_bytes(wav[24:28], "little") == 44100
    with pytest.raises(partita.ShapeError):
        partita.Audio(np.zeros((2, 2, 2)))


@needs_score
def test_audio_renders_a_score():
    pytest.importorskip("IPython")
    if not hasattr(partita, "Synth"):
        pytest.skip("no Synth in this build yet")
    score = partita.read_midi(MELODY)
    try:
        audio = partita.Audio(score, sample_rate=22050)
    except partita.RenderError as e:  # no SoundFont installed
        pytest.skip(str(e))
    assert int.from_bytes(audio.data[24:28], "little") == 22050 and len(audio.data) > 22050
