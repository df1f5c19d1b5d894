"""Command line: ``python -m lrcourse data`` makes sure FashionMNIST is on this machine."""

import argparse

from .data import DataNotFoundError, cache_dir, find_fashion_mnist


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lrcourse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="find FashionMNIST, or download it, check its files and say where")
    data.add_argument("--root", help="a folder holding the four raw files, checked and read in place "
                                     "(default: the cache, filled from the system folder or a download)")
    args = parser.parse_args(argv)
    try:
        folder = find_fashion_mnist(args.root)
    except (DataNotFoundError, ValueError) as error:
        raise SystemExit(str(error)) from None
    # The cache is torchvision's root; a folder of your own (root, LRCOURSE_DATA) holds the files.
    where = folder / "FashionMNIST" / "raw" if folder == cache_dir() else folder
    print(f"FashionMNIST is ready in {where}")


if __name__ == "__main__":
    main()
