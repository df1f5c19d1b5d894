"""Command line: ``python -m lrcourse data`` makes sure FashionMNIST is on this machine."""

import argparse

from .data import DataNotFoundError, find_fashion_mnist


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lrcourse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="find FashionMNIST, or download it, and say where it is")
    data.add_argument("--root", help="a folder holding the four raw files (default: search, then download)")
    args = parser.parse_args(argv)
    try:
        folder = find_fashion_mnist(args.root)
    except (DataNotFoundError, ValueError) as error:
        raise SystemExit(str(error)) from None
    print(f"FashionMNIST is ready in {folder / 'FashionMNIST' / 'raw'}")


if __name__ == "__main__":
    main()
