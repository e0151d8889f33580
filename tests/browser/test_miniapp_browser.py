"""The Mini App in headless Chromium under Telegram's own script, opened with Telegram's launch
fragment and answered by a phone's bridge: everything is asserted through what Telegram would
see (web_app_ready, the MainButton's text and state, the BackButton, popups) and buttons are
pressed the way Telegram reports a tap. initData comes from an independent signer."""

from __future__ import annotations

from PIL import ImageFilter

from tests import factories as f, signers
from tests.browser.client import Phone, add_photos
from tests.live import TOKEN
from tests.support import Recorder, make_model, sandbox_prompts, trained_model, tune_sizes


def luminance(css_color: str) -> float:
    """0 (black) to 1 (white) for an rgb(…) colour."""
    r, g, b = (int(x) for x in css_color[css_color.index("(") + 1 : -1].split(",")[:3])
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255


def test_a_russian_user_trains_a_model_in_telegram(browser, live, tmp_path):
    raw = signers.telegram_init_data(TOKEN, 5301, language="ru")
    phone = Phone.launch(browser, live.url, raw, theme="dark", platform="android")
    page = phone.page
    page.get_by_text("Пока нет моделей").wait_for()
    assert page.locator("#credits").inner_text().endswith("3 кредита")
    assert phone.events("web_app_ready") and phone.events("web_app_request_theme")
    phone.wait_main("Создать модель")
    assert not phone.back_visible()
    # the dark theme Telegram sent gives a dark page
    assert page.evaluate("document.documentElement.dataset.scheme") == "dark"
    assert luminance(page.evaluate("getComputedStyle(document.body).backgroundColor")) < 0.2
    # launch parameters are read by Telegram's script, then gone from the address
    assert page.evaluate("location.hash") == ""
    assert page.evaluate("Telegram.WebApp.initData") == raw

    phone.press_main()
    page.get_by_text("Фото · 0/4").wait_for()
    assert phone.back_visible()
    phone.wait_main("Начать обучение · 1 кредит", active=False)  # and the hint says why
    assert page.locator("#hint").inner_text() == "Добавьте ещё 4 фото"
    phone.press_back()  # the BackButton returns home
    page.get_by_text("Пока нет моделей").wait_for()
    assert not phone.back_visible()

    phone.press_main()
    page.get_by_text("Фото · 0/4").wait_for()
    small = tmp_path / "small.jpg"
    small.write_bytes(f.jpeg(300, 300))
    page.locator(".slot input").nth(0).set_input_files(str(small))
    page.get_by_text("Слишком маленькое (300×300)").wait_for()  # refused before any upload
    add_photos(page, tmp_path)
    page.locator("#name").fill("Я в горах")
    page.get_by_role("radio", name="Женщина").click()
    main = phone.wait_main("Начать обучение · 1 кредит")
    assert main["is_active"] is True
    assert phone.events("web_app_setup_closing_behavior")[-1] == {"need_confirmation": True}

    phone.press_main()
    page.get_by_text("Я в горах").wait_for()
    assert page.locator("#credits").inner_text().endswith("2 кредита")
    (model,) = live.rt.store.list_models(5301)
    live.idle()
    model = live.rt.store.get_model(model.id)
    assert model.tune_id is not None and model.photo_file_ids == ()
    sizes = tune_sizes(live, model.tune_id)
    assert len(sizes) == 4 and sizes[3] == [1536, 2048]  # 3000×4000 downscaled in the browser
    assert phone.events("web_app_setup_closing_behavior")[-1] == {"need_confirmation": False}
    phone.close()


def test_the_whole_journey_train_generate_view_and_delete(browser, live, telegram, tmp_path):
    raw = signers.telegram_init_data(TOKEN, 5100)
    phone = Phone.launch(browser, live.url, raw, theme="light", platform="ios")
    page = phone.page
    page.get_by_text("No models yet").wait_for()
    phone.press_main()
    add_photos(page, tmp_path)
    page.locator("#name").fill("Me in the park")
    page.get_by_role("radio", name="Person").click()
    phone.wait_main("Start training · 1 credit")
    phone.press_main()
    # the list refreshes by itself until the sandbox has trained it
    page.locator(".cell[data-id] .chev").wait_for(timeout=20000)
    assert "Person · 🎯 Best likeness · Ready" in page.locator(".cell[data-id]").inner_text()
    telegram.wait_text(5100, "Your model “Me in the park” is ready!")  # the chat heard too

    page.locator(".cell[data-id]").click()
    page.get_by_text("Your first images will appear here").wait_for()
    assert phone.main_button()["is_active"] is False  # nothing to generate yet
    page.locator("#prompt").fill("astronaut on the moon, film photo")
    phone.wait_main("Generate · 1 credit")
    phone.press_main()
    page.locator(".tile.pend").first.wait_for()
    page.locator(".tile img.in").nth(3).wait_for(timeout=20000)
    assert page.locator(".tile img").count() == 4
    assert page.locator("#cost").inner_text() == "Pick a style or describe a scene."
    page.locator("#prompt").fill("again")
    assert page.locator("#cost").inner_text().endswith("you have 1 credit.")
    page.locator("#prompt").fill("")
    assert {"type": "notification", "notification_type": "success"} in phone.events(
        "web_app_trigger_haptic_feedback"
    )

    page.locator(".tile").first.click()
    page.locator("#vcount").wait_for()
    assert page.locator("#vcount").inner_text() == "1 of 4"
    phone.wait_main("Download")
    assert phone.events("web_app_set_header_color")[-1] == {"color": "#000000"}
    phone.press_main()  # the sandbox's images are http: Telegram opens them (https: a download)
    first = page.locator(".vslide img").first.get_attribute("src")
    assert phone.events("web_app_open_link")[-1]["url"] == first
    phone.press_back()  # closes the viewer, not the model
    assert page.locator("#viewer").is_hidden()
    assert phone.events("web_app_set_header_color")[-1] == {"color_key": "secondary_bg_color"}
    phone.wait_main("Generate · 1 credit", active=False)
    phone.press_back()
    page.get_by_text("My models").wait_for()

    # deleting one's data: Telegram's popup with a destructive button
    page.get_by_role("button", name="Delete my data").click()
    popup = phone.wait_popup()
    assert popup["title"] == "Delete everything?"
    assert {"id": "yes", "type": "destructive", "text": "Delete"} in popup["buttons"]
    phone.close_popup(None)  # dismissed: nothing happens
    assert live.rt.store.list_models(5100)
    page.get_by_role("button", name="Delete my data").click()
    phone.wait_popup()
    phone.close_popup("yes")
    page.get_by_text("No models yet").wait_for()
    assert live.rt.store.list_models(5100) == []
    phone.close()


def ready_model(live, user_id: int, name: str = "Beach") -> int:
    """A model trained for the user through the chat, as the store records it."""
    live.rt.services.accounts.register(user_id)
    return make_model(live.rt.store, user_id, name=name, ready_as=1).id


def test_every_launch_url_telegram_uses_renders_the_right_screen(browser, live):
    model_id = ready_model(live, 5400)
    other = ready_model(live, 5401, "Not yours")
    raw = signers.telegram_init_data(TOKEN, 5400)
    model_screen = "Your first images will appear here"  # only the model's own screen says it
    model_url = f"/app?screen=model&id={model_id}"
    cases = [
        ({}, "My models", "/app"),
        ({"hash_path": f"/m/{model_id}"}, model_screen, model_url),
        ({"path": model_url}, model_screen, None),
        ({"path": "/app?screen=new"}, "Photos · 0/4", "/app?screen=new"),
        ({"hash_path": "/new"}, "Photos · 0/4", "/app?screen=new"),
        ({"start": f"m_{model_id}"}, model_screen, model_url),
        ({"start": "new"}, "Photos · 0/4", "/app?screen=new"),
        # a direct link: Telegram also puts the start parameter in the query
        ({"path": f"/app?tgWebAppStartParam=m_{model_id}"}, model_screen, model_url),
        ({"start": f"m_{other}"}, "My models", "/app"),  # someone else's model: home
        ({"start": "m_99999999999999999999"}, "My models", "/app"),
        ({"start": "<script>"}, "My models", "/app"),
    ]
    for case, text, address in cases:
        start = case.get("start")
        init = signers.telegram_init_data(TOKEN, 5400, start_param=start) if start else raw
        phone = Phone.launch(
            browser,
            live.url,
            init,
            start_param=start,
            path=case.get("path", "/app"),
            hash_path=case.get("hash_path", ""),
        )
        phone.page.get_by_text(text, exact=True).first.wait_for()
        assert phone.events("web_app_ready"), case
        url = phone.page.evaluate("location.pathname + location.search + location.hash")
        assert url == (address or case["path"]), case
        phone.close()


def test_a_reload_keeps_the_screen_and_the_user(browser, live):
    model_id = ready_model(live, 5500)
    raw = signers.telegram_init_data(TOKEN, 5500)
    phone = Phone.launch(browser, live.url, raw)
    phone.page.locator(".cell[data-id]").click()
    phone.page.get_by_text("Your first images will appear here").wait_for()
    phone.page.reload()  # the address no longer has the fragment; Telegram's script kept it
    phone.page.get_by_text("Your first images will appear here").wait_for()
    assert phone.page.evaluate("location.search") == f"?screen=model&id={model_id}"
    assert phone.page.evaluate("Telegram.WebApp.initData") == raw
    phone.close()


def test_outside_telegram_the_page_says_to_open_it_from_telegram(browser, live):
    phone = Phone(browser, f"{live.url}/app")  # no launch parameters at all
    phone.page.get_by_text("Open this app from the bot in Telegram.").wait_for()
    assert phone.page.evaluate("window.Telegram.WebApp.initData") == ""
    phone.close()


def test_an_image_url_off_astrias_hosts_is_never_loaded_by_the_browser(browser, live):
    elsewhere = Recorder()  # any other host: the page must not call it
    try:
        model_id = ready_model(live, 5600)
        store = live.rt.store
        generation, _ = store.create_generation(
            5600, model_id=model_id, prompt="x", num_images=2, cost=0
        )
        # a row written past the callback's checks (say, by an older version)
        store.finish_generation(generation.id, [f"{elsewhere.url}/a.jpg"] * 2, "1")
        phone = Phone.launch(browser, live.url, signers.telegram_init_data(TOKEN, 5600))
        phone.page.locator(".cell[data-id]").click()
        phone.page.locator(".tile img").first.wait_for(state="attached")
        phone.page.wait_for_timeout(500)
        assert elsewhere.hits == []
        assert [e for e in phone.errors if "Content Security Policy" in e]  # blocked by CSP
        phone.errors.clear()
        phone.close()
    finally:
        elsewhere.close()


def test_the_servers_refusal_reaches_the_user_in_their_words(browser, live, tmp_path):
    """Two files of one picture pass the page's own check (different files) but not the
    server's: the popup says why in Russian, from the texts the server sent with the page."""
    raw = signers.telegram_init_data(TOKEN, 5302, language="ru")
    phone = Phone.launch(browser, live.url, raw)
    page = phone.page
    phone.wait_main("Создать модель")
    phone.press_main()
    page.get_by_text("Фото · 0/4").wait_for()
    paths = [tmp_path / f"p{n}.jpg" for n in range(4)]
    for n in (0, 2):
        paths[n].write_bytes(f.jpeg(1000 + n * 40, 1300))
    picture = f.picture(900, 1200, (200, 40, 40))
    picture.save(paths[1], "JPEG")
    picture.resize((960, 1280)).save(paths[3], "JPEG", quality=80)  # the same, re-saved larger
    for n, path in enumerate(paths):
        page.locator(".slot input").nth(n).set_input_files(str(path))
        page.locator(".slot.done").nth(n).wait_for()
    page.locator("#name").fill("Дубль")
    page.get_by_role("radio", name="Мужчина").click()
    phone.wait_main("Начать обучение · 1 кредит")
    phone.press_main()
    popup = phone.wait_popup()
    assert popup["message"] == "Два фото — один и тот же снимок. Выберите 4 разных."
    assert live.rt.store.get_user(5302).credits == 3  # refused before any charge
    phone.close()


def test_buying_credits_opens_telegrams_invoice_and_shows_the_new_balance(browser, live, telegram):
    raw = signers.telegram_init_data(TOKEN, 5600)
    phone = Phone.launch(browser, live.url, raw, theme="light", platform="ios")
    page = phone.page
    page.get_by_text("No models yet").wait_for()
    page.locator("#credits").click()  # the credits pill opens the packs
    page.get_by_text("Buy credits").wait_for()
    assert phone.back_visible()
    pack = page.locator('.cell[data-pack="50"]')
    assert pack.inner_text().split("\n") == [
        "50 credits",
        "50 trainings or 50 generations",
        "⭐ 450",
    ]

    pack.click()
    slug = phone.wait_event("web_app_open_invoice")["slug"]
    assert telegram.invoices[slug]["currency"] == "XTR" and telegram.invoices[slug]["amount"] == 450
    phone.close_invoice(slug, "cancelled")
    page.get_by_text("Payment cancelled. Nothing was charged.").wait_for()

    pack.click()
    slug = phone.wait_event("web_app_open_invoice", count=2)["slug"]
    payload = telegram.invoices[slug]["payload"]
    live.post_update(f.pre_checkout(5600, payload, 450))
    assert telegram.calls_to("answerPreCheckoutQuery")[-1].params["ok"] in (True, "true", "True")
    phone.close_invoice(slug, "paid")  # the client says paid before Telegram's update arrives
    page.get_by_text("Payment received. Adding your credits…").wait_for()
    page.wait_for_timeout(1500)
    assert live.rt.store.get_user(5600).credits == 3  # nothing granted on the client's word
    charge_id = telegram.charge(5600, 450)
    live.post_update(f.successful_payment(5600, payload, 450, charge_id))
    page.get_by_text("50 credits added. Thank you!").wait_for(timeout=10000)
    page.get_by_text("You have 53 credits.", exact=False).wait_for()
    phone.press_back()
    page.get_by_text("My models").wait_for()
    assert page.locator("#credits").inner_text().endswith("53 credits")
    phone.close()


def test_a_style_a_tap_hd_and_more_like_this_in_the_app(browser, live, telegram, tmp_path):
    trained_model(live, telegram, 5700)
    live.rt.store.grant(5700, 10, "test", "styles")
    raw = signers.telegram_init_data(TOKEN, 5700)
    phone = Phone.launch(browser, live.url, raw, theme="dark", platform="android")
    page = phone.page
    page.locator(".cell[data-id]").click()
    page.locator(".style").first.wait_for()
    assert page.locator(".style").count() >= 12
    assert phone.main_button()["is_active"] is False  # nothing chosen yet
    page.locator('.style[data-style="cinematic"]').click()
    phone.wait_main("Generate · 1 credit")
    page.locator(".switch").click()  # HD
    phone.wait_main("Generate · 2 credits")
    phone.press_main()
    page.locator(".tile img.in").nth(3).wait_for(timeout=20000)
    live.idle()
    sent = sandbox_prompts(live)[-1]
    assert "cinematic film still of ohwx man" in sent["text"]
    assert '"super_resolution": "true"' in sent["options"]

    page.locator(".tile").first.click()
    page.locator("#vagain", has_text="More like this · 2 credits").wait_for()
    page.locator("#vagain").click()  # More like this: the same style and HD again
    page.locator(".tile.pend").first.wait_for()
    page.locator(".tile img.in").nth(7).wait_for(timeout=20000)
    newest = live.rt.store.list_generations(5700)[0]
    assert (newest.style, newest.hd, newest.cost) == ("cinematic", True, 2)
    assert live.rt.store.get_user(5700).credits == 2 + 10 - 2 - 2
    live.rt.store.grant(5700, -7, "test", "spent elsewhere")  # 1 left, the app still says 8
    page.locator(".tile").first.click()
    page.locator("#vagain").click()
    page.get_by_role("heading", name="Buy credits").wait_for()  # the shop, not an error
    assert live.rt.store.get_user(5700).credits == 1
    phone.close()


def test_an_instant_model_is_chosen_priced_and_ready_at_once(browser, make_live, tmp_path):
    live = make_live(FACEID_COST="2", SANDBOX_TRAIN_SECONDS="600")
    raw = signers.telegram_init_data(TOKEN, 5800)
    phone = Phone.launch(browser, live.url, raw)
    page = phone.page
    phone.wait_main("Create model")
    phone.press_main()
    add_photos(page, tmp_path)
    page.locator("#name").fill("Quick")
    page.get_by_role("radio", name="Woman").click()
    phone.wait_main("Start training · 1 credit")
    assert page.locator('[data-kind="faceid"] .val').inner_text() == "2 credits"
    page.locator('[data-kind="faceid"]').click()
    phone.wait_main("Start training · 2 credits")
    assert page.locator('[data-kind="faceid"]').get_attribute("aria-checked") == "true"
    phone.press_main()
    page.locator(".cell[data-id] .chev").wait_for(
        timeout=10000
    )  # ready without 10 minutes of training
    (model,) = live.rt.store.list_models(5800)
    assert (model.model_type, model.cost, model.status) == ("faceid", 2, "ready")
    phone.close()


def test_a_blurry_photo_is_marked_before_paying_and_replaced(browser, live, tmp_path):
    raw = signers.telegram_init_data(TOKEN, 5900)
    phone = Phone.launch(browser, live.url, raw)
    page = phone.page
    phone.wait_main("Create model")
    phone.press_main()
    add_photos(page, tmp_path)
    soft = tmp_path / "soft.jpg"
    picture = f.picture(900, 1200, (90, 140, 60)).filter(ImageFilter.GaussianBlur(8))
    picture.save(soft, "JPEG")
    page.locator(".slot input").nth(1).set_input_files(str(soft))
    page.locator(".slot.done").nth(3).wait_for()
    page.locator("#name").fill("Checked")
    page.get_by_role("radio", name="Woman").click()
    phone.wait_main("Start training · 1 credit")
    phone.press_main()
    popup = phone.wait_popup()
    assert popup["title"] == "Check your photos"
    assert "nothing was charged" in popup["message"]
    marked = page.locator(".slot").nth(1)
    assert "err" in marked.get_attribute("class")
    assert marked.locator("img.dim").count() == 1  # which photo it was stays visible
    assert "Blurry" in marked.inner_text()
    assert live.rt.store.list_models(5900) == []  # told before paying
    phone.close_popup(None)
    good = tmp_path / "sharp.jpg"
    good.write_bytes(f.jpeg(980, 1200, (200, 80, 60)))
    marked.locator("input").set_input_files(str(good))
    page.locator(".slot.done").nth(3).wait_for()
    phone.wait_main("Start training · 1 credit")
    phone.press_main()
    page.locator(".cell[data-id]").wait_for(timeout=10000)
    (model,) = live.rt.store.list_models(5900)
    assert model.name == "Checked"
    phone.close()


def test_the_app_trains_and_generates_with_jobs_on_rq(browser, make_live, tmp_path):
    import redis as redis_client

    from tests.support import redis_url
    from tests.test_jobs_rq import Workers

    url = redis_url()
    redis_client.Redis.from_url(url).flushdb()
    live = make_live(REDIS_URL=url, SWEEP_SECONDS="1")
    workers = Workers(tmp_path)
    workers.start(live)  # `flask --app wsgi worker`, as deployed
    try:
        phone = Phone.launch(browser, live.url, signers.telegram_init_data(TOKEN, 5950))
        page = phone.page
        phone.wait_main("Create model")
        phone.press_main()
        add_photos(page, tmp_path)
        page.locator("#name").fill("Queued")
        page.get_by_role("radio", name="Woman").click()
        page.locator('[data-kind="faceid"]').click()
        phone.wait_main("Start training · 1 credit")
        phone.press_main()
        page.locator(".cell[data-id] .chev").wait_for(timeout=20000)  # uploaded by the worker
        page.locator(".cell[data-id]").click()
        page.locator('.style[data-style="noir"]').click()
        phone.wait_main("Generate · 1 credit")
        phone.press_main()
        page.locator(".tile img.in").nth(3).wait_for(timeout=20000)
        assert redis_client.Redis.from_url(url).keys("astria-bot:photos:*") == []
        phone.close()
    finally:
        workers.stop()
        redis_client.Redis.from_url(url).flushdb()
    assert "Traceback" not in workers.logs(), workers.logs()


def test_a_photoshoot_ordered_in_telegram_is_charged_once_and_arrives_in_app_and_chat(
    browser, live, telegram
):
    model = trained_model(live, telegram, 5500, "Anna", "woman")
    live.rt.store.grant(5500, 40, "test", "photoshoot")
    raw = signers.telegram_init_data(TOKEN, 5500, start_param="s_260")
    phone = Phone.launch(browser, live.url, raw, theme="dark", platform="android",
                         start_param="s_260")  # fmt: skip
    page = phone.page
    page.get_by_role("heading", name="Corporate headshots").wait_for()
    assert page.evaluate("location.search") == "?screen=photoshoot&id=260"
    assert page.locator(".chip[aria-checked=true]").inner_text() == "Anna"
    assert page.locator(".grid .tile img").count() == 10  # the woman's samples
    phone.wait_main("Start · 16 pictures · 25 credits")
    phone.press_main()
    phone.press_main()  # a second tap while the first is on its way: the button is busy
    page.locator(".sh.ghead").first.wait_for(timeout=20000)  # on the model's screen
    assert page.evaluate("location.search") == f"?screen=model&id={model.id}"
    page.locator(".ghead + .grid .tile img.in").nth(15).wait_for(timeout=30000)
    telegram.wait_text(5500, "Photoshoot “Corporate headshots” is complete: 16 images.")
    (order,) = live.rt.store.list_shoots(5500)
    assert (order.status, order.refunded, order.price) == ("done", 0, 25)
    assert live.rt.store.get_user(5500).credits == 2 + 40 - 25
    phone.press_back()
    page.get_by_text("My models").wait_for()
    assert phone.errors == []
    phone.close()


def test_a_photoshoot_for_a_new_model_is_ordered_with_its_training_and_runs_after_it(
    browser, make_live, telegram, tmp_path
):
    live = make_live(SWEEP_SECONDS="0.3")  # the sweep sends the order once the model is ready
    raw = signers.telegram_init_data(TOKEN, 5600)
    phone = Phone.launch(browser, live.url, raw, start_param="s_260")
    page = phone.page
    page.get_by_text("A photoshoot is made with your model").wait_for()
    live.rt.store.grant(5600, 40, "test", "photoshoot")
    phone.wait_main("Create model")
    phone.press_main()
    page.get_by_text("Photos · 0/4").wait_for()
    add_photos(page, tmp_path)
    page.locator("#name").fill("Fresh")
    page.get_by_role("radio", name="Woman").click()
    phone.wait_main("Start training · 1 credit")
    phone.press_main()
    page.get_by_text("My models").wait_for()
    (model,) = live.rt.store.list_models(5600)
    (order,) = live.rt.store.list_shoots(5600)
    assert order.model_id == model.id and order.price == 25  # ordered with the training
    telegram.wait_text(5600, "Photoshoot “Corporate headshots” is complete: 16 images.", timeout=40)
    assert live.rt.store.get_user(5600).credits == 3 + 40 - 1 - 25
    assert phone.errors == []
    phone.close()
