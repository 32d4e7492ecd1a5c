"""hardware: device interfaces, drivers, simulators, and the registries that pick them.

``interfaces`` (IdCard, IdCardReader, Camera) · ``errors`` (the error tree) ·
``sam_protocol`` / ``sam_text`` / ``sam_reader`` / ``sam_simulator`` (the SAM ID card
reader) · ``camera`` (replay and OpenCV cameras, JPEG encoding) · ``registry`` with
``id_readers``, ``cameras`` and ``printer_devices`` (driver name → settings model, build,
probe) · ``factory`` (builds what the settings name) · ``health`` / ``device_health``.
"""
