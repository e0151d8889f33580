"""Dev mode in a plain browser: /app opens inside /app/dev, a page that plays Telegram's client
around the app (the same telegram-web-app.js as in Telegram, over Telegram's iframe protocol).
The whole journey is clicked through the host's drawn MainButton, BackButton and popups, in a
light iOS and a dark Android theme; screenshots of every screen go to test-artifacts/miniapp/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.client import add_photos, shot
from tests.live import LiveApp
from tests.support import tune_sizes

SAYS = {
    "en": {
        "empty": "No models yet",
        "credits": "3 credits",
        "create": "Create model",
        "photos": "Photos · 0/4",
        "class": "Woman",
        "start": "Start training · 1 credit",
        "ready": "Woman · 🎯 Best likeness · Ready",
        "first": "Your first images will appear here",
        "generate": "Generate · 1 credit",
        "delete": "Delete my data",
        "confirm": "Delete",
        "back": "‹ Back",
        "close": "✕ Close",
        "buy": "Buy credits",
        "no_telegram": "Payments work only inside Telegram (this is dev mode).",
        "shoot": "Corporate headshots",
        "shoot_meta": "16 pictures · 25 credits",
        "shoot_start": "Start · 16 pictures · 25 credits",
        "images": "Your images",
    },
    "ru": {
        "empty": "Пока нет моделей",
        "credits": "3 кредита",
        "create": "Создать модель",
        "photos": "Фото · 0/4",
        "class": "Женщина",
        "start": "Начать обучение · 1 кредит",
        "ready": "Женщина · 🎯 Максимальное сходство · Готова",
        "first": "Здесь появятся ваши изображения",
        "generate": "Создать · 1 кредит",
        "delete": "Удалить мои данные",
        "confirm": "Удалить",
        "back": "‹ Назад",
        "close": "✕ Закрыть",
        "buy": "Купить кредиты",
        "no_telegram": "Оплата работает только внутри Telegram (это режим разработки).",
        "shoot": "Деловые портреты",
        "shoot_meta": "16 фото · 25 кредитов",
        "shoot_start": "Начать · 16 фото · 25 кредитов",
        "images": "Ваши изображения",
    },
}


@pytest.fixture
def dev(tmp_path):
    app = LiveApp(tmp_path / "dev", telegram=None)
    yield app
    app.close()


@pytest.mark.parametrize(
    ("theme", "platform", "lang"), [("light", "ios", "en"), ("dark", "android", "ru")]
)
def test_dev_mode_runs_the_whole_journey_in_a_plain_browser(
    browser, dev, tmp_path, theme, platform, lang
):
    says = SAYS[lang]
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    # a refused API call (409: no Telegram to pay in) is a network result, not a page error;
    # a server error would fail the test through the incidents guard
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    # the plain /app address leads to the host, which opens the app as Telegram would
    page.goto(f"{dev.url}/app")
    page.wait_for_url("**/app/dev")
    page.goto(f"{dev.url}/app/dev?theme={theme}&platform={platform}&lang={lang}")
    app = page.frame_locator("#app")
    main, back = page.locator("#main"), page.locator("#back")

    app.get_by_text(says["empty"]).wait_for()
    assert app.locator("#credits").inner_text().endswith(says["credits"])
    expect(main).to_have_text(says["create"])
    expect(back).to_have_text(says["close"])
    shot(page, f"{theme}-1-home-empty")

    main.click()
    app.get_by_text(says["photos"]).wait_for()
    expect(back).to_have_text(says["back"])
    expect(main).to_be_disabled()
    add_photos(app, tmp_path)
    app.locator("#name").fill("Dev model")
    app.get_by_role("radio", name=says["class"]).click()
    expect(main).to_have_text(says["start"])
    expect(main).to_be_enabled()
    shot(page, f"{theme}-2-new-model")

    main.click()
    app.get_by_text("Dev model").wait_for()
    shot(page, f"{theme}-3-home-training")
    app.locator(".cell[data-id] .chev").wait_for(timeout=30000)
    assert says["ready"] in app.locator(".cell[data-id]").inner_text()
    (model,) = dev.rt.store.list_models(1)
    assert len(tune_sizes(dev, model.tune_id)) == 4  # the sandbox got the four photos
    shot(page, f"{theme}-4-home-ready")

    app.locator(".cell[data-id]").click()
    app.get_by_text(says["first"]).wait_for()
    shot(page, f"{theme}-5-model-empty")
    app.locator("#prompt").fill("astronaut on the moon, film photo")
    expect(main).to_have_text(says["generate"])
    expect(main).to_be_enabled()
    main.click()
    app.locator(".tile.pend").first.wait_for()
    shot(page, f"{theme}-6-generating")
    app.locator(".tile img.in").nth(3).wait_for(timeout=30000)
    shot(page, f"{theme}-7-gallery")

    app.locator(".tile").first.click()
    app.locator("#vcount").wait_for()
    shot(page, f"{theme}-8-viewer")
    back.click()
    app.locator("#viewer").wait_for(state="hidden")
    back.click()
    app.locator(".cell[data-id]").wait_for()
    expect(back).to_have_text(says["close"])

    app.locator("#credits").click()  # the packs; dev mode has no Telegram to pay in
    app.get_by_text(says["buy"]).wait_for()
    expect(back).to_have_text(says["back"])
    shot(page, f"{theme}-10-buy")
    app.locator(".cell[data-pack]").first.click()
    page.locator("#popup").get_by_text(says["no_telegram"]).wait_for()
    page.locator("#popup").get_by_role("button").first.click()
    back.click()
    app.locator(".cell[data-id]").wait_for()

    # a photoshoot: the covers, one's samples and price, then its pictures as they come
    dev.rt.store.grant(1, 40, "test", "photoshoot")
    app.locator("#shoots").click()
    app.locator(".cover img.in").nth(2).wait_for()
    expect(back).to_have_text(says["back"])
    cover = app.locator(".cover").first
    assert says["shoot"] in cover.inner_text() and says["shoot_meta"] in cover.inner_text()
    box = cover.locator(".pic").bounding_box()
    assert abs(box["height"] / box["width"] - 5 / 4) < 0.02  # a fixed 4:5, loaded or not
    shot(page, f"{theme}-11-photoshoots")
    cover.click()
    app.locator(".tile img.in").nth(9).wait_for()
    assert app.locator(".chip[aria-checked=true]").inner_text() == "Dev model"
    expect(main).to_have_text(says["shoot_start"])
    shot(page, f"{theme}-12-photoshoot")
    main.click()
    app.locator("#orders .bar, .ghead").first.wait_for()
    shot(page, f"{theme}-13-photoshoot-running")
    # the gallery: the photoshoot's pictures under its title, then the earlier ones
    expect(app.locator(".ghead")).to_have_text([says["shoot"], says["images"]], timeout=30000)
    app.locator(".ghead + .grid .tile img.in").nth(15).wait_for(timeout=30000)
    app.locator("#orders .bar").wait_for(state="detached")
    shot(page, f"{theme}-14-photoshoot-gallery")
    (order,) = dev.rt.store.list_shoots(1)
    assert (order.status, order.refunded) == ("done", 0)
    back.click()
    app.locator(".cell[data-id]").wait_for()

    app.get_by_role("button", name=says["delete"]).click()
    page.locator("#popup").wait_for()
    shot(page, f"{theme}-9-delete-confirm")
    page.locator("#popup").get_by_role("button", name=says["confirm"]).click()
    app.get_by_text(says["empty"]).wait_for()
    assert dev.rt.store.list_models(1) == []
    assert problems == []
    page.close()


def test_an_app_address_in_dev_mode_opens_inside_the_host_at_that_screen(browser, dev):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{dev.url}/app/dev")  # Telegram's script keeps launch data in this tab…
    page.frame_locator("#app").get_by_text("No models yet").wait_for()
    page.goto(f"{dev.url}/app?screen=new")  # …yet a bare /app still goes through the host
    page.wait_for_url("**/app/dev?screen=new")
    page.frame_locator("#app").get_by_text("Photos · 0/4").wait_for()
    expect(page.locator("#back")).to_have_text("‹ Back")
    page.close()


@pytest.mark.bench
def test_the_first_render_benchmark_runs_and_prints_its_numbers(browser):
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.miniapp_render", "2"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "first meaningful render: median" in done.stdout and "(bar: 500 ms)" in done.stdout
