"""Timer: repair lessons left stuck by crashed workers or lost messages."""

import logging

import azure.functions as func

from domain.base import utcnow
from functions.bootstrap import current_services

log = logging.getLogger(__name__)
bp = func.Blueprint()


# The schedule is an app setting (NCRONTAB, e.g. "0 */1 * * * *"), so tests can sweep faster.
@bp.timer_trigger(schedule="%SWEEP_SCHEDULE%", arg_name="timer", run_on_startup=False)
async def sweep_stuck_lessons(timer: func.TimerRequest) -> None:
    """Re-queue lessons stuck in generating past their lease or queued for too long."""
    if timer.past_due:
        log.info("sweep is running late")
    await current_services().sweeper.sweep(utcnow())
