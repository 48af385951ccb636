"""The web pages: server-rendered Jinja templates with a small script of our own (no build
step) for the player bar, soft page changes that keep it playing, and live job progress."""
