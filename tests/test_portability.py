"""What lets the project run on Linux, macOS and Windows, with or without a GPU: the worker count, finding a
Chromium or Chrome to drive, and the one place experiments choose their device."""

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from figures_src import initialization, measures, model, theory, training
from figures_src.mkdocs_plugin import browser, pdf
from figures_src.workers import usable_cpus

# ---------------------------------------------------------------- worker count


def test_usable_cpus_prefers_the_process_count_of_python_3_13(monkeypatch):
    monkeypatch.setattr(os, "process_cpu_count", lambda: 3, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4}, raising=False)
    assert usable_cpus() == 3


def test_usable_cpus_uses_the_affinity_mask_where_there_is_one(monkeypatch):
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert usable_cpus() == 2


def test_usable_cpus_without_an_affinity_mask_counts_the_machine_as_on_macos_and_windows(monkeypatch):
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert usable_cpus() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # "undeterminable"
    assert usable_cpus() == 1


def test_usable_cpus_on_this_machine():
    assert isinstance(usable_cpus(), int) and usable_cpus() >= 1


# ---------------------------------------------------------------- finding Chromium


@pytest.fixture
def nowhere(monkeypatch):
    """No browser anywhere: no environment variable, nothing on PATH, a Linux machine, no Playwright browser.
    Tests then put one back where they want it."""
    for name in browser.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(browser.shutil, "which", lambda command: None)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(browser, "playwright_chromium", lambda: None)
    return monkeypatch


def executable(folder: Path, name: str = "chrome") -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def fail_if_called(*args):
    raise AssertionError("looked further than needed")


def test_the_environment_variable_wins(nowhere, tmp_path):
    mine, lighthouse = executable(tmp_path, "mine"), executable(tmp_path, "lighthouse")
    nowhere.setattr(browser.shutil, "which", lambda command: "/usr/bin/" + command)
    nowhere.setattr(browser, "playwright_chromium", fail_if_called)
    nowhere.setenv("CHROME_PATH", str(lighthouse))
    assert browser.find_chromium() == str(lighthouse)
    nowhere.setenv("DL_CHROMIUM", str(mine))  # the project's own variable before Lighthouse's
    assert browser.find_chromium() == str(mine)


@pytest.mark.parametrize("variable", ["DL_CHROMIUM", "CHROME_PATH"])
def test_an_environment_variable_naming_a_missing_file_is_an_error(nowhere, tmp_path, variable):
    nowhere.setattr(browser.shutil, "which", lambda command: "/usr/bin/" + command)  # not used instead
    nowhere.setenv(variable, str(tmp_path / "no-chrome"))
    with pytest.raises(browser.BrowserNotFound, match=rf"{variable}=.*no-chrome.*does not name an existing file"):
        browser.find_chromium()


def test_path_is_searched_in_order(nowhere):
    on_path = {"google-chrome": "/opt/bin/google-chrome", "google-chrome-stable": "/opt/bin/google-chrome-stable"}
    nowhere.setattr(browser.shutil, "which", on_path.get)
    nowhere.setattr(browser, "playwright_chromium", fail_if_called)
    assert browser.find_chromium() == "/opt/bin/google-chrome"
    on_path["chromium"] = "/usr/bin/chromium"
    assert browser.find_chromium() == "/usr/bin/chromium"


def test_on_macos_the_application_bundles_are_found(nowhere, tmp_path):
    app = executable(tmp_path, "Chromium")
    nowhere.setattr(sys, "platform", "darwin")
    nowhere.setattr(browser, "MACOS_APPS", (str(tmp_path / "Google Chrome"), str(app)))
    nowhere.setattr(browser, "playwright_chromium", fail_if_called)
    assert browser.find_chromium() == str(app)


def test_macos_bundles_are_not_looked_for_elsewhere(nowhere, tmp_path):
    nowhere.setattr(browser, "MACOS_APPS", (str(executable(tmp_path)),))
    with pytest.raises(browser.BrowserNotFound):
        browser.find_chromium()


def test_playwrights_own_chromium_comes_last(nowhere, tmp_path):
    managed = executable(tmp_path)
    nowhere.setattr(browser, "playwright_chromium", lambda: str(managed))
    assert browser.find_chromium() == str(managed)


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_nothing_found_lists_every_place_tried_and_how_to_install(nowhere, platform):
    nowhere.setattr(sys, "platform", platform)
    nowhere.setattr(browser, "MACOS_APPS", ("/nonexistent/Google Chrome", "/nonexistent/Chromium"))
    with pytest.raises(browser.BrowserNotFound) as raised:
        browser.find_chromium()
    message = str(raised.value)
    places = [*browser.ENV_VARS, *browser.COMMANDS, "Playwright"]
    places += ["/nonexistent/Google Chrome", "/nonexistent/Chromium"] if platform == "darwin" else []
    for expected in places + ["apt-get install chromium", "brew install --cask chromium",
                              "python -m playwright install chromium", "DL_CHROMIUM"]:
        assert expected in message
    assert isinstance(raised.value, RuntimeError)


class FakePlaywright:
    """Stands in for `sync_playwright()`: a context manager whose chromium reports `path`."""

    def __init__(self, path):
        self.path = path

    def __call__(self):
        return self

    def __enter__(self):
        if isinstance(self.path, Exception):
            raise self.path
        return SimpleNamespace(chromium=SimpleNamespace(executable_path=self.path))

    def __exit__(self, *exc):
        return False


def test_playwrights_chromium_counts_only_if_downloaded(monkeypatch, tmp_path):
    import playwright.sync_api

    managed = executable(tmp_path)
    monkeypatch.setattr(playwright.sync_api, "sync_playwright", FakePlaywright(str(managed)))
    assert browser.playwright_chromium() == str(managed)
    monkeypatch.setattr(playwright.sync_api, "sync_playwright", FakePlaywright(str(tmp_path / "not-downloaded")))
    assert browser.playwright_chromium() is None
    monkeypatch.setattr(playwright.sync_api, "sync_playwright", FakePlaywright(RuntimeError("driver failed")))
    assert browser.playwright_chromium() is None


def test_without_a_browser_the_pdf_command_says_where_it_looked_and_how_to_install(nowhere, tmp_path):
    (tmp_path / "site" / "print_page").mkdir(parents=True)
    (tmp_path / "site" / "print_page" / "index.html").write_text("<html></html>")
    expected = r"(?s)Cannot print the PDF: No Chromium or Chrome found.*DL_CHROMIUM.*apt-get install chromium"
    with pytest.raises(SystemExit, match=expected):
        pdf.print_site(tmp_path / "site", tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


def test_the_pdf_command_reports_a_wrong_dl_chromium(nowhere, tmp_path):
    nowhere.setenv("DL_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(SystemExit, match=r"Cannot print the PDF: DL_CHROMIUM=.*no-chromium"):
        pdf.print_site(tmp_path / "site", tmp_path / "out.pdf")


# ---------------------------------------------------------------- the device


def test_device_is_the_cpu_unless_dl_device_says_otherwise(monkeypatch):
    monkeypatch.delenv("DL_DEVICE", raising=False)
    assert model.device() == torch.device("cpu")
    monkeypatch.setenv("DL_DEVICE", "")
    assert model.device() == torch.device("cpu")
    monkeypatch.setenv("DL_DEVICE", "meta")  # read at every call, not once at import
    assert model.device() == torch.device("meta")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "nonsense"])
def test_an_unknown_device_is_a_clear_error(monkeypatch, name):
    monkeypatch.setenv("DL_DEVICE", name)
    with pytest.raises(ValueError, match=rf"DL_DEVICE='{name}' is not a torch device.*unset DL_DEVICE"):
        model.device()


@pytest.mark.parametrize("name", ["cuda", "cuda:7", "mps"])
def test_an_unavailable_device_is_a_clear_error(monkeypatch, name):
    kind = name.split(":")[0]
    if kind == "cuda" and torch.cuda.is_available() and torch.cuda.device_count() > 7:
        pytest.skip("this machine has that GPU")
    if kind == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    monkeypatch.setenv("DL_DEVICE", name)
    with pytest.raises(ValueError, match=rf"DL_DEVICE='{name}': this machine cannot compute there"):
        model.device()


def test_networks_and_inputs_are_made_on_the_chosen_device(monkeypatch):
    monkeypatch.setenv("DL_DEVICE", "meta")
    assert model.MLP(model.MLPConfig(d_in=4, width=8, depth=2), model.seeded(0)).weights[0].device.type == "meta"
    assert model.gaussian_inputs(3, 4, model.seeded(0)).device.type == "meta"
    assert all(t.device.type == "meta" for t in model.great_circle(5, 4, model.seeded(0)))
    x, y = training.teacher_task(4, 6, seed=0, input_correlation=0.5)
    assert x.device.type == y.device.type == "meta"
    explicit = model.MLP(model.MLPConfig(d_in=4, width=8, depth=2), model.seeded(0), device="cpu")
    assert explicit.weights[0].device.type == "cpu"  # an explicit device beats DL_DEVICE


def test_random_draws_do_not_depend_on_the_device(monkeypatch):
    """Draws come from CPU generators and are moved: the generator ends in the same state whatever the device,
    and on the CPU the numbers are exactly the generator's."""
    states = {}
    for name in ("cpu", "meta"):
        monkeypatch.setenv("DL_DEVICE", name)
        generator = model.seeded(3)
        model.MLP(model.MLPConfig(d_in=4, width=8, depth=2, init="orthogonal"), generator)
        model.gaussian_inputs(5, 4, generator)
        model.great_circle(7, 4, generator)
        states[name] = generator.get_state()
    assert torch.equal(states["cpu"], states["meta"])
    monkeypatch.setenv("DL_DEVICE", "cpu")
    assert torch.equal(model.gaussian_inputs(5, 4, model.seeded(1)), torch.randn(5, 4, generator=model.seeded(1)))


def test_nothing_mixes_devices(monkeypatch):
    """On the meta device every tensor a function makes without following its inputs would be a CPU tensor, and
    mixing it in raises: a stand-in for a GPU on a machine without one. Only what needs no numbers back: the
    training loops (which test for divergence with .item()) and effective_rank (which drops zero eigenvalues)
    cannot run on meta."""
    monkeypatch.setenv("DL_DEVICE", "meta")
    generator = model.seeded(0)
    x = model.gaussian_inputs(6, 5, generator)
    for config in (model.MLPConfig(d_in=5, width=8, depth=3),
                   model.MLPConfig(d_in=5, width=8, depth=3, batch_norm=True, init="orthogonal"),
                   model.MLPConfig(d_in=5, width=8, depth=3, branch_scale=0.5, init="zero_branch")):
        net = model.MLP(config, generator)
        outputs = initialization.linear_outputs(net, x)
        assert net(x).device.type == "meta" and all(o.device.type == "meta" for o in outputs)
    net = model.MLP(model.MLPConfig(d_in=5, width=8, depth=3), generator)
    features = net.features(x)
    last = features[-1]
    checks = [measures.correlation_by_depth(features), measures.off_diagonal(measures.cosine_matrix(last)),
              *measures.second_moment_split(last), measures.pooled_variance_fraction(measures.gram(last)),
              measures.log_norm_variance(measures.gram(last)),
              measures.per_layer_growth_factor(measures.weight_gradient_sq_norms(net(x).sum(), list(net.weights))),
              measures.gradient_quotient(net(x).pow(2).mean(), list(net.weights))]
    blocks, output = measures.empirical_ntk(net, x)
    checks += [*measures.layer_gradient_norms(blocks, output), measures.useful_gradient_share(blocks.sum(0))]
    x_grad = x.clone().requires_grad_(True)
    checks.append(measures.input_gradients(net(x_grad), x_grad))
    checks.append(model.finite_width_grams(model.on_sphere(x), width=7, depth=2, n_networks=3, generator=generator))
    weights = training.stacked_weights([net, net])
    checks.append(training.batched_mlp_forward(weights, x))
    checks.append(training.steps_to(torch.zeros(2, 5, dtype=torch.float64, device="meta"), 0.1))
    gram0 = x @ x.T / x.shape[1]
    c = torch.zeros(3, dtype=torch.float64, device="meta")
    checks += [theory.kernel_after_layers(gram0, 3), theory.ntk_blocks_infinite_width(gram0, 3, input_ratio=0.5),
               *theory.mean_field_recursion(c, 3), *theory.residual_recursion(c, 3, 0.5),
               *theory.residual_batch_norm_recursion(c, 3, 0.5, batch_size=8), theory.backward_correlation(c, 3),
               theory.correlation_gap_asymptote(torch.arange(1.0, 4.0, device="meta")),
               *theory.relu_second_moment_split(c).values(), theory.relu_kept_variance(c)]
    assert all(t.device.type == "meta" for t in checks)
