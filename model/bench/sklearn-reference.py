#!/usr/bin/python3
"""scikit-learn reference for `pricedrop bench forest`: same CSVs, same settings, same JSON.

Run with Debian's Python (apt-get install -y python3-sklearn):
  /usr/bin/python3 model/bench/sklearn-reference.py --train T.csv --test S.csv --label y \
      --trees 50 --max-depth 12 [--max-features sqrt|F] [--min-samples-leaf N] [--seed N]

Make a synthetic data set first (scikit-learn's make_classification, fixed seed):
  /usr/bin/python3 model/bench/sklearn-reference.py --make-data DIR --rows 10000 --features 12
writes DIR/train.csv (rows) and DIR/test.csv (rows / 2) with a 0/1 column "y".

Timing: fit() on all cores (n_jobs=-1) and predict_proba(), measured with time.perf_counter;
the CSV loading is not timed, as in the TypeScript bench.
"""
import argparse
import json
import os
import sys
import time

import numpy as np


def load(path, label):
    with open(path) as handle:
        header = handle.readline().strip().split(',')
    data = np.genfromtxt(path, delimiter=',', skip_header=1, dtype=np.float64)
    if data.ndim == 1:
        data = data.reshape(1, -1)
    index = header.index(label)
    y = data[:, index]
    x = np.delete(data, index, axis=1)
    return x, (y > 0.5).astype(np.int64)


def make_data(directory, rows, features, seed):
    from sklearn.datasets import make_classification
    informative = max(2, features // 2)
    x, y = make_classification(n_samples=rows + rows // 2, n_features=features, n_informative=informative,
                               n_redundant=min(2, features - informative), flip_y=0.05, class_sep=0.8,
                               random_state=seed)
    os.makedirs(directory, exist_ok=True)
    header = ','.join([f'f{i}' for i in range(features)] + ['y'])
    for name, part in (('train.csv', slice(0, rows)), ('test.csv', slice(rows, None))):
        table = np.column_stack([x[part], y[part]])
        np.savetxt(os.path.join(directory, name), table, delimiter=',', header=header, comments='',
                   fmt=['%.6g'] * features + ['%d'])
    print(json.dumps({'train': os.path.join(directory, 'train.csv'), 'test': os.path.join(directory, 'test.csv'),
                      'rows_train': rows, 'rows_test': rows // 2, 'features': features}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--make-data')
    parser.add_argument('--rows', type=int, default=10000)
    parser.add_argument('--features', type=int, default=12)
    parser.add_argument('--train')
    parser.add_argument('--test')
    parser.add_argument('--label', default='y')
    parser.add_argument('--trees', type=int, default=50)
    parser.add_argument('--max-depth', type=int, default=12)
    parser.add_argument('--max-features', default='sqrt')
    parser.add_argument('--min-samples-leaf', type=int, default=1)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--n-jobs', type=int, default=-1)
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    if args.make_data:
        make_data(args.make_data, args.rows, args.features, args.seed)
        return

    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score

    max_features = args.max_features
    if max_features != 'sqrt':
        value = float(max_features)
        max_features = value if value <= 1 else int(value)
    x_train, y_train = load(args.train, args.label)
    x_test, y_test = load(args.test, args.label)
    model = RandomForestClassifier(n_estimators=args.trees, max_depth=args.max_depth, max_features=max_features,
                                   min_samples_leaf=args.min_samples_leaf, bootstrap=True, n_jobs=args.n_jobs,
                                   random_state=args.seed)
    started = time.perf_counter()
    model.fit(x_train, y_train)
    train_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    scores = model.predict_proba(x_test)[:, 1]
    predict_ms = (time.perf_counter() - started) * 1000
    import sklearn
    print(json.dumps({'train_ms': round(train_ms, 1), 'predict_ms': round(predict_ms, 1),
                      'auc': round(float(roc_auc_score(y_test, scores)), 4), 'rows_train': int(len(y_train)),
                      'rows_test': int(len(y_test)), 'features': int(x_train.shape[1]),
                      'implementation': f'scikit-learn {sklearn.__version__}', 'n_jobs': args.n_jobs}))


if __name__ == '__main__':
    sys.exit(main())
