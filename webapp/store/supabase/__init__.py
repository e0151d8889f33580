"""The Supabase store: PostgREST through supabase-py, with every credit change in a Postgres
function (supabase/migrations) called with `rpc` — no read-modify-write of credits in Python.

Round trips: one per method. A webhook update costs three (claim the update id, ensure the
user, read the chat state) plus what its handler does (a flow step writes the state: one more).
The methods are grouped as the SQLite store's: users and credits, conversations, models,
generations, payments, photoshoots; client.py is the connection and the mapping of PostgREST's
errors."""

from __future__ import annotations

from webapp.store.supabase.conversations import Conversations, Marks
from webapp.store.supabase.generations import Generations
from webapp.store.supabase.models import Models
from webapp.store.supabase.payments import Payments
from webapp.store.supabase.shoots import Shoots
from webapp.store.supabase.users import Users

__all__ = ["SupabaseStore"]


class SupabaseStore(Users, Conversations, Marks, Models, Generations, Payments, Shoots):
    """The Store on Supabase (PostgreSQL behind PostgREST), with the service-role key."""
