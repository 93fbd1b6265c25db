"""The handle tests, the command line and the demo hold on a running simulator: where to
connect, the ground truth, the ground crew's hands (refill, battery), a radio cut."""

from __future__ import annotations

from sim.config import SimConfig, make_config
from sim.simulator import Simulator
from sim.truth import Truth


class SimHandle:
    """A running simulator: .url/.port to connect to, .truth(), .stop(); also a context manager."""

    def __init__(self, simulator: Simulator) -> None:
        self.sim = simulator

    @property
    def url(self) -> str:
        return self.sim.url

    @property
    def port(self) -> int:
        return self.sim.port

    @property
    def usb_url(self) -> str | None:
        """Where a trusted client (channel 0, "USB": heard unsigned) connects; None without SimConfig.usb."""
        return self.sim.link.usb_url

    @property
    def usb_port(self) -> int | None:
        return self.sim.link.usb_port

    @property
    def config(self) -> SimConfig:
        return self.sim.cfg

    def truth(self) -> Truth:
        return self.sim.truth()

    def sim_time(self) -> float:
        return self.sim.copter.t

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Wait (wall seconds) until the simulated copter has a position estimate."""
        return self.sim.ready.wait(timeout)

    def refill(self, litres: float | None = None) -> None:
        """The operator fills the tank (to `litres` capacity if given)."""
        self.sim.call(lambda s: s.copter.refill(litres))

    def swap_battery(self) -> None:
        self.sim.call(lambda s: s.copter.swap_battery())

    def cut_link(self, seconds: float) -> None:
        """Silence the link both ways from now for `seconds` of simulated time (a radio
        out of range at a moment a test picks, rather than at a fixed time)."""
        self.sim.call(lambda s: setattr(s, "cut_until", s.copter.t + seconds))

    def stop(self) -> None:
        self.sim.stop()

    def __enter__(self) -> SimHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_sim(config: SimConfig | None = None, **settings) -> SimHandle:
    """Start a simulator in a background thread of this process and return its handle.

    Keywords are SimConfig fields (listen, usb, signing_key, speedup, home, tank_l, pump_max_l_min,
    boot_delay_s, truth_path, seed, wind_m_s, ...) or Faults fields (loss, duplicate, reorder, latency_s,
    link_cut_at_s, gps_loss_at_s, battery_failure_at_s, ...). listen="tcp:127.0.0.1:0" picks a
    free port: read it from handle.port / handle.url.
    """
    if config is None:
        settings.setdefault("listen", "tcp:127.0.0.1:0")
    cfg = make_config(config, **settings)
    return SimHandle(Simulator(cfg).start())
