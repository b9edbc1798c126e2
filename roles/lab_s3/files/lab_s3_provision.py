#!/usr/bin/python3
"""Create (or confirm) the lab S3 server's access key and buckets; print JSON.

moto keeps its state in memory: after a restart of the service the stored key is
unknown to it, and this script creates a new key and the buckets again.
"""
import json
import os
import sys

import boto3
import botocore.exceptions

ENDPOINT, CA_FILE, REGION, USER, CRED_FILE = sys.argv[1:6]
BUCKETS = sys.argv[6:]


def client(service, key, secret):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION, verify=CA_FILE,
                        aws_access_key_id=key, aws_secret_access_key=secret)


def stored_key_works():
    try:
        with open(CRED_FILE) as handle:
            cred = json.load(handle)
        s3 = client('s3', cred['access_key_id'], cred['secret_access_key'])
        existing = {b['Name'] for b in s3.list_buckets()['Buckets']}
    except (OSError, ValueError, KeyError, botocore.exceptions.ClientError):
        return None, set()
    return cred, existing


def main():
    changed = False
    cred, existing = stored_key_works()
    if cred is None:
        iam = client('iam', 'bootstrap', 'bootstrap')
        try:
            iam.create_user(UserName=USER)
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        iam.put_user_policy(UserName=USER, PolicyName='dbfleet-all', PolicyDocument=json.dumps(
            {'Version': '2012-10-17',
             'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
        key = iam.create_access_key(UserName=USER)['AccessKey']
        # Use up moto's unauthenticated requests: from here on every request is signed.
        for _ in range(50):
            try:
                iam.list_users()
            except botocore.exceptions.ClientError:
                break
        else:
            sys.exit('moto does not enforce authentication')
        cred = {'access_key_id': key['AccessKeyId'], 'secret_access_key': key['SecretAccessKey']}
        fd = os.open(CRED_FILE + '.new', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as handle:
            json.dump(cred, handle)
        os.replace(CRED_FILE + '.new', CRED_FILE)
        changed = True
        existing = set()
    s3 = client('s3', cred['access_key_id'], cred['secret_access_key'])
    created = []
    for bucket in BUCKETS:
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
            created.append(bucket)
    print(json.dumps({'changed': changed or bool(created), 'new_key': changed, 'created': created}))


if __name__ == '__main__':
    main()
