"""Unit tests of the research adapters: recorded API answers served through httpx.MockTransport."""
