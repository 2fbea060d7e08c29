"""Serving portable policies over HTTP (SPEC section 4): the codec, the app, the server process."""
