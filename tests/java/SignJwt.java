// Signs a Salesforce JWT bearer assertion the way a Java integration does: load the
// keystore, take the private key, SHA256withRSA over base64url(header).base64url(claims).
// Used by certmint's tests to prove an independent signer's assertions are accepted.
//
//   java tests/java/SignJwt.java TYPE FILE ALIAS PASSWORD ISS SUB AUD
//
// Prints the compact assertion on stdout.

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;

public class SignJwt {
    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: java SignJwt.java TYPE FILE ALIAS PASSWORD ISS SUB AUD");
            System.exit(2);
        }
        char[] pw = args[3].toCharArray();
        KeyStore ks = KeyStore.getInstance(args[0]);
        try (InputStream in = new FileInputStream(args[1])) {
            ks.load(in, pw);
        }
        PrivateKey key = (PrivateKey) ks.getKey(args[2], pw);
        long exp = System.currentTimeMillis() / 1000 + 120;
        String header = "{\"alg\":\"RS256\"}";
        String claims = "{\"iss\":\"" + args[4] + "\",\"sub\":\"" + args[5] + "\",\"aud\":\""
                + args[6] + "\",\"exp\":" + exp + "}";
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String input = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(key);
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        System.out.println(input + "." + b64.encodeToString(s.sign()));
    }
}
