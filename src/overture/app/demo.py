"""The demo catalog: on a service's first start (``overture serve --demo``, which ``make run``
uses) a demo creator's songs are queued, to be made by the workers and published as they
finish, so that a new install has music to browse and play within a minute or two.

It happens once per database: the demo account is the marker. The account cannot sign in
(its password hash is not a hash), and it is a creator, not an admin, so the first person to
sign up still becomes the admin.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from overture.app.db import session_factory, utcnow
from overture.app.jobs.queue import JobQueue
from overture.app.models import User

log = logging.getLogger(__name__)

DEMO_EMAIL = "demo@overture.invalid"
DEMO_NAME = "Overture Studio"
NO_PASSWORD = "!demo-account-without-a-password"

DEMO_SONGS: tuple[dict[str, object], ...] = (
    {"prompt": "upbeat pop song, 120 bpm, G major, bright and happy", "duration": 40, "seed": 1},
    {"prompt": "伤感 钢琴 抒情 慢板 C小调", "duration": 40, "seed": 2},
    {"prompt": "lo-fi hip hop, chill, rainy night", "duration": 40, "seed": 3},
    {
        "prompt": "dreamy pop, warm",
        "lyrics": (
            "[Verse]\nCity lights are fading slow\nEvery window burning gold\n"
            "[Chorus]\nStay a while, stay a while\nSing it softly, make it mine\n"
        ),
        "voice": "female",
        "seed": 4,
    },
    {"prompt": "jazz trio, swing, late night, relaxed", "duration": 40, "seed": 5},
    {"prompt": "epic orchestral, heroic, D minor", "duration": 40, "seed": 6},
    {
        "prompt": "民谣 吉他 温暖",
        "lyrics": "[主歌]\n月亮照在小河上\n风吹过我的家乡\n[副歌]\n唱吧唱吧\n唱到天亮\n",
        "voice": "male",
        "seed": 7,
    },
    {"prompt": "chiptune, energetic, retro game", "duration": 30, "seed": 8},
)


def seed_demo(engine: Engine, queue: JobQueue) -> int:
    """Queue the demo songs, published when made, unless this database has had them already.
    Returns how many were queued (0 when already seeded)."""
    Session = session_factory(engine)
    with Session.begin() as s:
        if s.scalar(select(User.id).where(User.email == DEMO_EMAIL)) is not None:
            return 0
        user = User(
            email=DEMO_EMAIL,
            display_name=DEMO_NAME,
            password_hash=NO_PASSWORD,
            role="creator",
            created_at=utcnow(),
        )
        s.add(user)
        try:
            s.flush()
        except IntegrityError:  # another process seeded it at the same moment
            return 0
        user_id = user.id
    for options in DEMO_SONGS:
        queue.enqueue(user_id, {**options, "think": "medium"}, publish=True)
    log.info("queued %d demo songs", len(DEMO_SONGS))
    return len(DEMO_SONGS)
