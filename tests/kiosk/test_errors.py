from kiosk import errors


def test_every_error_is_a_kiosk_error_with_a_message_key():
    classes = [errors.ConfigError, errors.UnknownService, errors.InvalidIdNumber,
               errors.ApplicationInvalid, errors.NoActiveSession]
    for cls in classes:
        assert issubclass(cls, errors.KioskError)
        assert cls.message_key.startswith("kiosk.")
    assert errors.KioskError.message_key == "kiosk.error"
    assert errors.UnknownService.message_key == "kiosk.unknown_service"
    assert errors.InvalidIdNumber.message_key == "kiosk.invalid_id_number"
    assert errors.ApplicationInvalid.message_key == "kiosk.application_invalid"


def test_config_error_names_the_key_and_application_invalid_keeps_errors():
    exc = errors.ConfigError("devices.camera.driver", "must be one of replay, opencv")
    assert str(exc) == "devices.camera.driver: must be one of replay, opencv"
    assert exc.key == "devices.camera.driver"
    invalid = errors.ApplicationInvalid({"phone": "kiosk.field.phone_invalid"})
    assert invalid.errors == {"phone": "kiosk.field.phone_invalid"}


def test_every_message_key_is_translated():
    from kiosk.i18n import Translator

    translator = Translator.load()
    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, errors.KioskError):
            for lang in ("zh", "en"):
                assert translator.has(cls.message_key, lang), (cls, lang)
