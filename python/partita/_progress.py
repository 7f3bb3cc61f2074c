"""The tqdm progress bar that ``ARCNN.fit(progress=True)`` drives (imported by the
compiled module when a fit starts, so importing partita does not import tqdm)."""
import math


class FitProgress:
    """One bar per epoch: step(StepInfo) advances it, epoch(EpochInfo) writes the
    epoch's losses and resets it, close() ends it."""

    def __init__(self):
        from tqdm.auto import tqdm
        self._bar = tqdm(total=None, unit="step", dynamic_ncols=True)

    def step(self, info):
        bar = self._bar
        if bar.total != info.steps_in_epoch:
            bar.reset(total=info.steps_in_epoch)
        bar.set_description(f"epoch {info.epoch}")
        bar.set_postfix({k: f"{v:.4f}" for k, v in info.losses.items()}, refresh=False)
        bar.update(1)

    def epoch(self, info):
        v = info.valid_loss
        self._bar.write(f"epoch {info.epoch}: train_loss {info.train_loss:.4f}"
                        + ("" if v is None or math.isnan(v) else f" valid_loss {v:.4f}")
                        + (" (best)" if info.best else ""))
        self._bar.reset()

    def close(self):
        self._bar.close()
