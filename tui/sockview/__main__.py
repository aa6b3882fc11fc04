from sockview.cli import main

raise SystemExit(main())
