import sys

from scanner.cli.main import main

sys.exit(main())
