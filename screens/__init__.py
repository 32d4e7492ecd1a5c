"""The kiosk's Kivy screens: one ``<name>.py`` + ``<name>.kv`` each; see ``screens.table``."""
