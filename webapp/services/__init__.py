"""The service layer shared by the chat and the Mini App: no Flask and no telebot in here."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.alerts import Alerts
from webapp.astria import AstriaClient
from webapp.images import ImagePolicy
from webapp.jobs import Background
from webapp.security import callback_token
from webapp.services.accounts import Accounts
from webapp.services.callbacks import Callbacks
from webapp.services.checks import PhotoChecks
from webapp.services.generation import Generations
from webapp.services.inspection import Inspector
from webapp.services.likes import Likes
from webapp.services.payments import Payments
from webapp.services.photoshoots import CATALOGUE, Photoshoots, load_catalogue
from webapp.services.ports import Cashier, FileSource, NoCashier, Notifier
from webapp.services.reconcile import Reconciler
from webapp.services.shoots import Shoots
from webapp.services.styles import Styles
from webapp.services.training import Training
from webapp.settings import Settings
from webapp.stash import MemoryStash, PhotoStash
from webapp.store import Store


@dataclass(frozen=True)
class Services:
    """Everything the edges (chat handlers, routes) may call."""

    accounts: Accounts
    training: Training
    checks: PhotoChecks  # the photo check before paying
    generations: Generations
    callbacks: Callbacks
    reconciler: Reconciler
    payments: Payments
    settings: Settings
    photoshoots: Photoshoots  # the catalogue, as far as Astria can run it
    shoots: Shoots  # photoshoot orders
    likes: Likes  # likes of pictures, and the catalogues' order by them

    def resume(self) -> None:
        """Pick up work a crashed process left half-done (uploads and prompts not yet sent), and
        forget photo verdicts no training read."""
        self.training.resume()
        self.generations.resume()
        self.callbacks.resume()
        self.shoots.resume()
        self.checks.forget_stale_verdicts()
        self.training.forget_slow_notices()


def build_services(
    settings: Settings,
    store: Store,
    astria: AstriaClient,
    jobs: Background,
    notifier: Notifier,
    files: FileSource,
    alerts: Alerts | None = None,
    images: ImagePolicy | None = None,
    cashier: Cashier | None = None,
    styles: Styles | None = None,
    stash: PhotoStash | None = None,
    photoshoots: Photoshoots | None = None,
) -> Services:
    """Wire the services together once, at start-up."""

    def callback_url(kind: str, object_id: int) -> str:
        token = callback_token(settings.secret_key, kind, object_id)
        return f"{settings.public_url}/api/astria/callback/{kind}/{object_id}?token={token}"

    inspector = Inspector(astria, settings.inspect_seconds, enabled=settings.inspect_seconds > 0)
    checks = PhotoChecks(store, jobs, files, notifier, inspector)
    training = Training(
        store,
        astria,
        settings,
        jobs,
        notifier,
        callback_url,
        alerts,
        files=files,
        checks=checks,
        stash=stash or MemoryStash(),
    )
    generations = Generations(
        store,
        astria,
        settings,
        jobs,
        notifier,
        callback_url,
        alerts,
        styles=styles or Styles.load(settings.generate_cost),
    )
    images = images or ImagePolicy(settings)
    callbacks = Callbacks(store, settings, jobs, notifier, training, generations, images)
    photoshoots = photoshoots or Photoshoots(
        load_catalogue(settings.photoshoots_file or CATALOGUE), astria
    )
    shoots = Shoots(
        store,
        astria,
        settings,
        jobs,
        notifier,
        callback_url,
        alerts,
        photoshoots=photoshoots,
        images=images,
        deliver=callbacks.deliver,
    )
    return Services(
        accounts=Accounts(store, settings, astria),
        training=training,
        checks=checks,
        generations=generations,
        callbacks=callbacks,
        reconciler=Reconciler(store, astria, settings, callbacks, training, generations),
        payments=Payments(store, settings, cashier or NoCashier()),
        settings=settings,
        photoshoots=photoshoots,
        shoots=shoots,
        likes=Likes(store, astria, jobs),
    )
