"""Timer triggers and function timeouts in the local host, on the real clock."""

import asyncio

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest

from devhost.functions import discover
from devhost.invoke import Invoker
from devhost.timers import IntervalSchedule, TimerRunner


def _timer_app(handler, schedule: str, *, run_on_startup: bool = False):
    app = func.FunctionApp()
    app.timer_trigger(
        schedule=schedule, arg_name="timer", run_on_startup=run_on_startup, use_monitor=False
    )(handler)
    [spec] = discover(app)
    return spec


async def test_timer_fires_on_its_schedule_with_a_timer_request() -> None:
    fired: list[bool] = []
    twice = asyncio.Event()

    async def tick(timer: func.TimerRequest) -> None:
        fired.append(timer.past_due)
        if len(fired) == 2:
            twice.set()

    spec = _timer_app(tick, "* * * * * *")  # every second
    stopping = asyncio.Event()
    runner = TimerRunner(spec, Invoker(timeout=5))
    task = asyncio.create_task(runner.run(stopping))
    await asyncio.wait_for(twice.wait(), 10)
    stopping.set()
    await asyncio.wait_for(task, 5)
    assert fired[:2] == [False, False]


async def test_run_on_startup_fires_before_the_first_due_time() -> None:
    fired: list[str] = []
    once = asyncio.Event()
    loop = asyncio.get_running_loop()

    def tick(timer: func.TimerRequest) -> None:  # sync: runs in the thread pool
        fired.append("tick")
        loop.call_soon_threadsafe(once.set)

    spec = _timer_app(tick, "0 0 0 1 1 *", run_on_startup=True)  # once a year
    runner = TimerRunner(spec, Invoker(timeout=5))
    stopping = asyncio.Event()
    task = asyncio.create_task(runner.run(stopping))
    await asyncio.wait_for(once.wait(), 10)
    stopping.set()
    await asyncio.wait_for(task, 5)
    assert fired == ["tick"]


def test_timespan_schedule_is_an_interval() -> None:
    spec = _timer_app(lambda timer: None, "00:00:30")
    schedule = TimerRunner(spec, Invoker(timeout=1)).schedule
    assert isinstance(schedule, IntervalSchedule)
    assert schedule.interval == 30


async def test_function_running_past_function_timeout_is_stopped() -> None:
    async def slow(timer: func.TimerRequest) -> None:
        await asyncio.sleep(30)

    spec = _timer_app(slow, "0 0 0 1 1 *")
    with pytest.raises(TimeoutError):
        await Invoker(timeout=0.2)(spec, TimerRequest(past_due=False))
