from tests.calibration.conftest import cal  # noqa: F401 - the calibrated org, shared
