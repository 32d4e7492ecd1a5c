"""hardware: device interfaces, drivers, simulators and the factory that picks them.

``interfaces`` (IdCard, IdCardReader, Camera) · ``errors`` (the error tree) ·
``sam_protocol`` / ``sam_text`` / ``sam_reader`` / ``sam_simulator`` (the SAM ID card
reader) · ``camera`` (replay and OpenCV cameras, JPEG encoding) · ``factory``.
"""
