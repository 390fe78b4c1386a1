"""Reading a QR code back from the PNG Admit rendered, as a phone's camera would."""

import io

import zxingcpp
from PIL import Image


def read_qr(png: bytes) -> str:
    """The text of the one QR code in the image.

    Only QR codes are looked for: a reader trying every format can now and then also see a linear
    barcode in the QR code's modules, which is a second, false, result.
    """
    (found,) = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return str(found.text)
